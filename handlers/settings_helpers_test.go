package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// neonRecorder sits under the dashboard's Neon client: it records what
// Neon is asked and, when told, makes Neon refuse the next write by arming
// a sandbox fault on that write's path just before it goes out, so the reads
// that render the page are left alone.
type neonRecorder struct {
	sb *sandbox.Sandbox

	mu        sync.Mutex
	calls     []string
	failWrite bool
}

func (n *neonRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	n.mu.Lock()
	n.calls = append(n.calls, r.Method+" "+r.URL.Path)
	fail := n.failWrite && identity.Mutating(r.Method)
	if fail {
		n.failWrite = false
	}
	n.mu.Unlock()
	if fail {
		// 423 is retried once even for writes; both attempts meet it.
		n.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultLocked, Count: 2, PathContains: r.URL.Path})
	}
	return http.DefaultTransport.RoundTrip(r)
}

// failNextWrite makes Neon answer the next write with 423 Locked.
func (n *neonRecorder) failNextWrite() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failWrite = true
}

// writes returns the writes sent since the last call.
func (n *neonRecorder) writes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, c := range n.calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	n.calls = nil
	return out
}

// newSettingsApp is the dashboard with Better Auth enabled on the seeded
// project's default branch, its Neon calls recorded from then on.
func newSettingsApp(t *testing.T, opts ...appOption) (*testApp, *neonRecorder) {
	t.Helper()
	rec := &neonRecorder{}
	a := newTestApp(t, append([]appOption{withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: rec}))}, opts...)...)
	rec.sb = a.Sandbox
	a.enableBetterAuth()
	rec.writes()
	return a, rec
}

// settingsPath is a path below the seeded branch's settings.
func (a *testApp) settingsPath(sub string) string {
	return "/projects/" + a.projectID + "/branches/" + a.project.BranchID + "/auth/settings/" + sub
}

// wantNoWrites fails when Neon was asked to change anything.
func wantNoWrites(t *testing.T, rec *neonRecorder) {
	t.Helper()
	if w := rec.writes(); len(w) > 0 {
		t.Errorf("a refused form reached Neon: %v", w)
	}
}

// wantFieldError checks the message next to the field with id, and that the
// field points at it and is marked invalid.
func wantFieldError(t *testing.T, r *testResponse, id string) {
	t.Helper()
	if r.text("field-error-"+id) == "" {
		t.Errorf("no message next to %s:\n%.3000s", id, r.Body)
		return
	}
	field := r.Doc.Find("#" + id)
	if field.Length() == 0 {
		field = r.Doc.Find(`[data-testid="` + id + `"]`)
	}
	if d, _ := field.Attr("aria-describedby"); !strings.Contains(d, "err-"+id) {
		t.Errorf("%s: aria-describedby = %q, want it to name err-%s", id, d, id)
	}
	if field.Is("input, select") {
		if v, _ := field.Attr("aria-invalid"); v != "true" {
			t.Errorf("%s: aria-invalid = %q", id, v)
		}
	}
	if r.Doc.Find(`label[for="`+id+`"]`).Length() == 0 && !field.Is("fieldset") {
		t.Errorf("%s has no label", id)
	}
}

// wantNeonProblem checks Neon's refusal is in the answer with its request
// id.
func wantNeonProblem(t *testing.T, r *testResponse, status int) {
	t.Helper()
	r.wantStatus(t, status)
	if r.byTestID("api-error").Length() == 0 {
		t.Fatalf("no Neon error in the answer:\n%.3000s", r.Body)
	}
	if id := r.text("request-id"); id == "" {
		t.Errorf("Neon's request id is not shown: %q", r.text("api-error"))
	}
}

// value is the value attribute of the element with id.
func (r *testResponse) value(id string) string {
	v, _ := r.Doc.Find("#" + id).Attr("value")
	return v
}

// isChecked reports whether the checkbox or radio with id is checked.
func (r *testResponse) isChecked(id string) bool {
	_, ok := r.Doc.Find("#" + id).Attr("checked")
	return ok
}

// followRedirect loads the page a no-JS post redirected to, checking the
// redirect went back to the group's page.
func (a *testApp) followRedirect(t *testing.T, r *testResponse, wantPath string) *testResponse {
	t.Helper()
	r.wantStatus(t, http.StatusSeeOther)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Path != wantPath {
		t.Fatalf("redirected to %q, want %s", r.Header.Get("Location"), wantPath)
	}
	return a.get(loc.Path)
}
