package handlers

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestUsersPageMutationsAreAuditedOnce drives the users page as htmx does and
// checks each change left one audit line carrying the request id the
// dashboard sent to Neon, whether Neon agreed, refused or was never asked.
func TestUsersPageMutationsAreAuditedOnce(t *testing.T) {
	audit := &lockedBuffer{}
	a := newTestApp(t,
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: identity.AuditTransport(nil)})),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: audit})
			if err != nil {
				t.Fatal(err)
			}
			h.Security = sec
		}))
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	a.enableStack()
	users := "/projects/" + a.projectID + "/users"

	a.get(a.usersPath(authprovider.Stack)).wantStatus(t, http.StatusOK)
	created := a.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"audit@example.com"}})
	created.wantStatus(t, http.StatusCreated)
	uid := created.text("created-user-id")
	duplicate := a.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"audit@example.com"}})
	duplicate.wantStatus(t, http.StatusConflict)
	unconfirmed := a.htmxPost(users+"/"+uid+"/delete", url.Values{"provider": {"stack"}})
	unconfirmed.wantStatus(t, http.StatusUnprocessableEntity)
	deleted := a.htmxPost(users+"/"+uid+"/delete", url.Values{"provider": {"stack"}, "confirm": {"yes"}})
	deleted.wantStatus(t, http.StatusOK)

	lines := audit.Lines(t)
	posts := postsOf(browser.exchanges())
	want := []struct {
		action, outcome string
		status          int
		neonStatus      float64 // 0: Neon was not asked
	}{
		{"user.create", "ok", http.StatusCreated, 201},
		{"user.create", "error", http.StatusConflict, 409},
		{"user.delete", "error", http.StatusUnprocessableEntity, 0},
		{"user.delete", "ok", http.StatusOK, 204},
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
