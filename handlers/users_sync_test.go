package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

func TestSyncCheckMetricsAreOptional(t *testing.T) {
	done := views.SyncCheck{State: views.SyncSynced, Elapsed: time.Second}
	var off *metrics.Metrics
	for name, h := range map[string]*Handler{
		"no observer":  {},
		"nil *Metrics": {SyncMetrics: off},
	} {
		t.Run(name, func(t *testing.T) {
			h.observeSyncCheck(done) // must not panic
		})
	}
	rec := &syncRecorder{}
	h := &Handler{SyncMetrics: rec}
	h.observeSyncCheck(views.SyncCheck{State: views.SyncPending, Elapsed: time.Second})
	h.observeSyncCheck(done)
	if got := rec.observed(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Errorf("observations = %v, want only the concluded check's 1s", got)
	}
}

// oneUser is a users table holding a single user, for routes that only read;
// the Neon Auth calls that change something are left nil.
type oneUser struct {
	NeonAuth
	user db.User
}

// UsersChanged has nothing cached to forget.
func (o oneUser) UsersChanged(context.Context, neonauth.Ref) {}

func (o oneUser) OpenUsers(context.Context, neonauth.Ref) (neonauth.UserDirectory, error) {
	return o, nil
}
func (o oneUser) Target() string                                      { return "db.test:5432/neondb" }
func (o oneUser) Source() string                                      { return neonauth.SourceNeon }
func (o oneUser) Provider() authprovider.Provider                     { return authprovider.Stack }
func (o oneUser) Latest(context.Context, int) ([]db.User, error)      { return []db.User{o.user}, nil }
func (o oneUser) Count(context.Context) (int, int, error)             { return 1, 0, nil }
func (o oneUser) Find(ctx context.Context, q string) (db.User, error) { return o.Get(ctx, q) }
func (o oneUser) Get(_ context.Context, id string) (db.User, error) {
	if id != o.user.ID {
		return db.User{}, db.ErrNotFound
	}
	return o.user, nil
}

// TestUserIDsWithReservedCharacters follows the links the pages build for ids
// holding characters a path segment must escape: the handlers must see the
// id itself, not its escaped form.
func TestUserIDsWithReservedCharacters(t *testing.T) {
	for _, id := range []string{"a,b", "org;1", "team/ada", "ada@example.com", "ünï"} {
		t.Run(id, func(t *testing.T) {
			users := oneUser{user: db.User{ID: id, Email: "ada@example.com", CreatedAt: time.Unix(1700000000, 0)}}
			srv := httptest.NewServer((&Handler{Auth: users}).Echo())
			defer srv.Close()
			check := views.SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: id, Watch: views.WatchCreate, Since: time.Now().UnixMilli()}
			req, err := http.NewRequest(http.MethodGet, srv.URL+views.SyncPollURL(check), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("HX-Request", "true")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			doc, err := goquery.NewDocumentFromReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", req.URL, res.StatusCode)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="sync-status"]`).Text()); got != "synced" {
				t.Errorf("status = %q, want synced", got)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="row-id"]`).Text()); got != id {
				t.Errorf("row id = %q, want %q", got, id)
			}
		})
	}
}
