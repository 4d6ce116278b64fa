package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/web"
	"github.com/neonauth-admin/dashboard/views"
)

// servePage adds GET /page to e: an empty dashboard page with the layout the
// real pages use, its chrome built by sec as page handlers build theirs.
func servePage(e *echo.Echo, sec *Security) {
	e.GET("/page", func(c echo.Context) error {
		return web.Render(c, http.StatusOK, views.Layout(sec.Chrome(c, "Page")))
	})
}

func parseHTML(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSignOutWithTheDashboardsOwnSession(t *testing.T) {
	h := newOIDCHarness(t)
	servePage(h.f.e, h.f.sec)
	h.signIn("/page")

	r := h.get("/page")
	h.want(r, http.StatusOK, "page after sign-in")
	doc := parseHTML(t, r.body)
	form := doc.Find(`[data-testid="identity"] ~ li form[data-testid="sign-out"]`)
	if form.Length() != 1 || form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != LogoutPath {
		t.Fatalf("sign-out control beside the identity: want a POST form to %s:\n%s", LogoutPath, r.body)
	}
	token := form.Find(`input[name="_csrf"]`).AttrOr("value", "")
	if token == "" {
		t.Fatal("sign-out form without a CSRF token")
	}
	if form.Find(`button[type="submit"]`).Length() != 1 {
		t.Error("sign-out form without a button")
	}

	// Submitting the form as rendered signs out.
	r = h.postForm(LogoutPath, url.Values{"_csrf": {token}})
	h.want(r, http.StatusSeeOther, "sign-out form")
	if r.location != SignedOutPath {
		t.Errorf("sign-out redirects to %q, want %s", r.location, SignedOutPath)
	}
	r = h.get(SignedOutPath)
	h.want(r, http.StatusOK, "signed-out page")
	if n := parseHTML(t, r.body).Find(`[data-testid="sign-out"]`).Length(); n != 0 {
		t.Error("the signed-out page offers to sign out again")
	}
	h.want(h.get("/page"), http.StatusFound, "page after sign-out")
}

func TestSignOutControlByMode(t *testing.T) {
	proxy := func(logoutURL string) AuthConfig {
		cfg := secAuthConfig(t)
		cfg.LogoutURL = logoutURL
		return cfg
	}
	none, err := ParseAuthEnv(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cfg     AuthConfig
		peer    string
		as      []string
		status  int
		wantURL string // "" means no control
	}{
		{"proxy with a logout URL", proxy("https://sso.example.com/oauth2/sign_out"), trustedPeer, as(adminEmail), http.StatusOK, "https://sso.example.com/oauth2/sign_out"},
		{"proxy, refused for lack of a role", proxy("/oauth2/sign_out"), trustedPeer, as(outsider), http.StatusForbidden, "/oauth2/sign_out"},
		{"proxy without a logout URL", proxy(""), trustedPeer, as(adminEmail), http.StatusOK, ""},
		{"nobody signed in", none, "127.0.0.1:5000", nil, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSecFixture(t, tc.cfg)
			servePage(f.e, f.sec)
			w := f.do(req(http.MethodGet, "/page", tc.peer, nil, tc.as...))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tc.status, w.Body)
			}
			doc := page(t, w)
			control := testID(doc, "sign-out")
			if tc.wantURL == "" {
				if control.Length() != 0 {
					t.Errorf("sign-out control shown: %s", goquery.NodeName(control))
				}
				return
			}
			if control.Length() != 1 || goquery.NodeName(control) != "a" || control.AttrOr("href", "") != tc.wantURL {
				t.Errorf("sign-out control = %d × <%s href=%q>, want a link to %s", control.Length(), goquery.NodeName(control), control.AttrOr("href", ""), tc.wantURL)
			}
		})
	}
}
