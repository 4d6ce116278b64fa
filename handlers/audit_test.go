package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestEveryMutatingRouteHasAnAuditAction walks the routes the dashboard
// serves, the OIDC sign-in routes included, and fails for a state-changing
// route without a named audit action, or a name for a route that is gone.
func TestEveryMutatingRouteHasAnAuditAction(t *testing.T) {
	e := (&Handler{}).Echo()
	(&Security{oidc: &oidcAuth{}}).Routes(e)
	served := map[string]bool{}
	for _, r := range e.Routes() {
		if safeMethod(r.Method) || r.Method == echoRouteNotFound {
			continue
		}
		key := r.Method + " " + r.Path
		served[key] = true
		if _, named := auditActions[key]; !named {
			t.Errorf("%s has no audit action in auditActions; its lines would carry only the route", key)
		}
	}
	if len(served) < 6 {
		t.Fatalf("found %d state-changing routes, want at least 6: %v", len(served), served)
	}
	for key := range auditActions {
		if !served[key] {
			t.Errorf("auditActions names %s, which no route serves", key)
		}
	}

	// A route left out of the table is still audited, under a generic action.
	e = echo.New()
	var got string
	e.POST("/projects/:id/new-thing", func(c echo.Context) error { got = auditAction(c); return nil })
	e.ServeHTTP(httptest.NewRecorder(), mustRequest(t.Context(), http.MethodPost, "/projects/p-1/new-thing"))
	if got != "POST /projects/:id/new-thing" {
		t.Errorf("unnamed route audited as %q, want its method and pattern", got)
	}
}

// TestUsersPageMutationsAreAuditedOnce drives the users page as htmx does and
// checks each change left one audit line carrying the request id the
// dashboard sent to Neon, whether Neon agreed, refused or was never asked.
func TestUsersPageMutationsAreAuditedOnce(t *testing.T) {
	audit := &lockedBuffer{}
	a := newTestApp(t,
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: AuditTransport(nil)})),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			sec, err := NewSecurity(t.Context(), SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: audit})
			if err != nil {
				t.Fatal(err)
			}
			h.Security = sec
		}))
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	a.enableStack()
	users := "/projects/" + a.projectID + "/users"

	a.get(a.usersPath(neonapi.AuthProviderStack)).wantStatus(t, http.StatusOK)
	created := a.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"audit@example.com"}})
	created.wantStatus(t, http.StatusCreated)
	uid := created.text("created-user-id")
	duplicate := a.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"audit@example.com"}})
	duplicate.wantStatus(t, http.StatusConflict)
	unconfirmed := a.htmxPost(users+"/"+uid+"/delete", url.Values{"provider": {"stack"}})
	unconfirmed.wantStatus(t, http.StatusUnprocessableEntity)
	deleted := a.htmxPost(users+"/"+uid+"/delete", url.Values{"provider": {"stack"}, "confirm": {"yes"}})
	deleted.wantStatus(t, http.StatusOK)

	lines := audit.lines(t)
	posts := postsOf(browser.exchanges())
	want := []struct {
		action, outcome string
		status          int
		neonStatus      float64 // 0: Neon was not asked
	}{
		{"user.create", outcomeOK, http.StatusCreated, 201},
		{"user.create", outcomeError, http.StatusConflict, 409},
		{"user.delete", outcomeError, http.StatusUnprocessableEntity, 0},
		{"user.delete", outcomeOK, http.StatusOK, 204},
	}
	if len(lines) != len(want) || len(posts) != len(want) {
		t.Fatalf("%d audit lines for %d posts, want %d:\n%s", len(lines), len(posts), len(want), audit)
	}
	for i, w := range want {
		line, id := lines[i], posts[i].header.Get(echo.HeaderXRequestID)
		if line["action"] != w.action || line["outcome"] != w.outcome || line["status"] != float64(w.status) ||
			line["request_id"] != id || line["actor"] != adminEmail || line["project"] != a.projectID {
			t.Errorf("line %d = %v, want %s %s status %d request_id %s", i, line, w.action, w.outcome, w.status, id)
		}
		if w.neonStatus == 0 {
			if _, asked := line["neon_status"]; asked {
				t.Errorf("line %d says Neon answered %v, but Neon was not asked", i, line["neon_status"])
			}
			continue
		}
		if line["neon_status"] != w.neonStatus || line["neon_request_id"] != id || id == "" {
			t.Errorf("line %d: neon_status %v neon_request_id %v, want %v and %q", i, line["neon_status"], line["neon_request_id"], w.neonStatus, id)
		}
	}
	if !strings.Contains(lines[1]["target"].(string), "email=audit@example.com") || !slices.Contains(strings.Fields(lines[3]["target"].(string)), "user="+uid) {
		t.Errorf("targets %q and %q do not name the user", lines[1]["target"], lines[3]["target"])
	}
}
