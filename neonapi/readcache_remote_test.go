package neonapi_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestRemoteWritesDecideWhatTheCacheTrusts: a client whose cache works
// alongside other replicas' serves no Neon Auth answer it holds and keeps
// others only for their TTL until it hears the others' writes; hearing
// them, it keeps settings for the freshness window and drops them when
// told of a write; it tells of its own writes; and when it hears again
// after a time it did not, it forgets everything.
func TestRemoteWritesDecideWhatTheCacheTrusts(t *testing.T) {
	sb, srv := neontest.StartSandbox(t, -1)
	ctx := context.Background()
	p, err := sb.CreateProject(ctx, "remote-writes")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var published []neonapi.Write
	sent := &neontest.Requests{}
	c, err := neonapi.New("napi_remote", neonapi.WithBaseURL(srv.URL+"/api/v2"),
		neonapi.WithHTTPClient(&http.Client{Transport: sent}),
		neonapi.WithReadCache(time.Minute), neonapi.WithFreshness(time.Hour),
		neonapi.WithRemoteWrites(func(w neonapi.Write) { mu.Lock(); published = append(published, w); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableBranchAuth(ctx, p.ID, p.BranchID, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: p.DatabaseName}); err != nil {
		t.Fatal(err)
	}
	// reads makes the reads of a settings page and returns what it asked Neon.
	reads := func() []string {
		t.Helper()
		sent.Take()
		if _, err := c.GetAllowLocalhost(ctx, p.ID, p.BranchID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		return sent.Take()
	}
	settings := "GET /api/v2/projects/" + p.ID + "/branches/" + p.BranchID + "/auth/allow_localhost"
	project := "GET /api/v2/projects/" + p.ID

	reads()
	if got := reads(); !slices.Equal(got, []string{settings}) {
		t.Errorf("not hearing the others: asked %q; want the setting from Neon, the project (within its TTL) from the cache", got)
	}
	c.HearRemoteWrites(true)
	if got := reads(); !slices.Equal(got, []string{project, settings}) {
		t.Errorf("hearing the others at last: asked %q; want everything read again", got)
	}
	if got := reads(); len(got) != 0 {
		t.Errorf("hearing the others: asked %q; want both from the cache", got)
	}

	c.ApplyRemoteWrite(neonapi.Write{Path: "/projects/" + p.ID + "/branches/" + p.BranchID + "/auth/allow_localhost"})
	if got := reads(); !slices.Contains(got, settings) {
		t.Errorf("after another's write of the setting: asked %q; want the setting read again", got)
	}

	if _, err := c.UpdateAllowLocalhost(ctx, p.ID, p.BranchID, false); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	last := published[len(published)-1]
	mu.Unlock()
	if last.Path != "/projects/"+p.ID+"/branches/"+p.BranchID+"/auth/allow_localhost" {
		t.Errorf("published %+v for the setting's update", last)
	}
	if on, err := c.GetAllowLocalhost(ctx, p.ID, p.BranchID); err != nil || on {
		t.Errorf("after its own write: %t, %v", on, err)
	}

	reads()
	c.HearRemoteWrites(false)
	c.HearRemoteWrites(true)
	if got := reads(); !slices.Equal(got, []string{project, settings}) {
		t.Errorf("hearing again after a gap: asked %q; want everything read again", got)
	}
}
