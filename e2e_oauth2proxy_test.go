package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/oauth2proxytest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// signInPolicy is the role policy the people of signInCases meet.
var signInPolicy = map[string]string{
	"AUTH_ADMIN_EMAILS":   "ada@example.com",
	"AUTH_ADMIN_DOMAINS":  "corp.test",
	"AUTH_ADMIN_GROUPS":   "platform-admins",
	"AUTH_VIEWER_DOMAINS": "example.com",
	"AUTH_CONTACT":        "#platform-team",
}

// signInCase is one person the mock identity provider signs in, and the role
// the dashboard must give them: "admin", "viewer" or "none" (the 403 page).
type signInCase struct {
	name string
	user mockoidc.MockUser
	want string
}

func person(email, preferredUsername string, groups ...string) mockoidc.MockUser {
	return mockoidc.MockUser{Subject: "sub-" + email + "-" + preferredUsername, Email: email, EmailVerified: true, PreferredUsername: preferredUsername, Groups: groups}
}

var signInCases = []signInCase{
	{"admin", person("ada@example.com", "ada"), "admin"},
	{"admin without preferred_username", person("ada@example.com", ""), "admin"},
	{"viewer", person("vic@example.com", "vic"), "viewer"},
	{"viewer without preferred_username", person("vic@example.com", ""), "viewer"},
	{"group admin", person("gus@partner.test", "gus", "platform-admins"), "admin"},
	{"group admin without preferred_username", person("gus@partner.test", "", "platform-admins"), "admin"},
	{"person without a role", person("olga@elsewhere.test", "olga"), "none"},
	{"look-alike of the admin domain (long s)", person("mallory@corp.te\u017ft", "mallory"), "none"},
	{"look-alike of the admin domain (long s), without preferred_username", person("mallory@corp.te\u017ft", ""), "none"},
	{"look-alike of the admin group (long s)", person("mallory@partner.test", "mallory", "platform-admin\u017f"), "none"},
	{"look-alike of the admin group (long s), without preferred_username", person("mallory@partner.test", "", "platform-admin\u017f"), "none"},
	{"admin group in other case", person("mallory@partner.test", "mallory", "Platform-Admins"), "none"},
}

// startIdP runs the mock OpenID Connect provider on loopback. Its handlers
// share plain maps, so they are served one at a time.
func startIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// proxyRecipe is docs/security.md's oauth2-proxy command with this test's
// values: TestOAuth2ProxyRecipeIsTheDocumentedOne keeps the flags the same.
// scope "" leaves oauth2-proxy's default scope (openid email profile).
func proxyRecipe(idp *mockoidc.MockOIDC, proxyAddr, upstream, scope string) []string {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	args := []string{
		"--provider=oidc",
		"--oidc-issuer-url=" + idp.Issuer(),
		"--client-id=" + idp.ClientID,
		"--client-secret=" + idp.ClientSecret,
		"--redirect-url=http://" + proxyAddr + "/oauth2/callback",
		// openssl rand -base64 32 | tr -- '+/' '-_'
		"--cookie-secret=" + base64.URLEncoding.EncodeToString(secret),
		"--cookie-secure=false",
		"--upstream=" + upstream,
		"--email-domain=*",
		"--pass-user-headers=true",
	}
	if scope != "" {
		args = append(args, "--scope="+scope)
	}
	return args
}

// proxied is the dashboard in proxy mode behind the real oauth2-proxy.
type proxied struct {
	idp   *mockoidc.MockOIDC
	dash  *dashboard
	proxy *oauth2proxytest.Proxy
}

// startProxied starts the provider, the dashboard (demo data, proxy mode, as
// the recipe configures it) and oauth2-proxy with the recipe's groups scope.
func startProxied(t *testing.T) *proxied {
	t.Helper()
	dbURL := pgtest.Require(t)
	oauth2proxytest.Binary(t) // skip before starting anything when it cannot be built
	p := &proxied{idp: startIdP(t)}
	env := map[string]string{"AUTH_LOGOUT_URL": "/oauth2/sign_out"}
	for k, v := range signInPolicy {
		env[k] = v
	}
	p.dash = startDashboardEnv(t, dbURL, env)
	p.proxy = p.startProxy(t, "openid email profile groups")
	return p
}

func (p *proxied) startProxy(t *testing.T, scope string) *oauth2proxytest.Proxy {
	t.Helper()
	addr := oauth2proxytest.FreeAddr(t)
	return oauth2proxytest.Start(t, addr, proxyRecipe(p.idp, addr, p.dash.URL+"/", scope)...)
}

// browserlessClient is a cookie-keeping client that follows redirects, as a
// browser would, minus the browser.
func browserlessClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A transport of its own, closed at the end, so that no connection it
	// left open holds up the servers' graceful shutdown.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   string
	url    string
}

func fetch(t *testing.T, c *http.Client, method, target string, headers ...string) reply {
	t.Helper()
	r, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	res, err := c.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return reply{status: res.StatusCode, header: res.Header, body: string(b), url: res.Request.URL.String()}
}

// role reads what the dashboard made of the person: the role badge of a
// page, "none" for the page saying they have no role, "refused" for an
// identity it would not accept, or what else came back.
func (a reply) role() string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(a.body))
	if err != nil {
		return "unreadable page"
	}
	switch {
	case a.status == http.StatusOK && doc.Find(`[data-testid="identity"] .badge`).Length() == 1:
		return strings.TrimSpace(doc.Find(`[data-testid="identity"] .badge`).Text())
	case a.status == http.StatusForbidden && doc.Find(`[data-testid="forbidden"]`).Length() == 1:
		return "none"
	case a.status == http.StatusUnauthorized && doc.Find(`[data-testid="bad-identity"]`).Length() == 1:
		return "refused"
	}
	return http.StatusText(a.status) + " without the dashboard's answer"
}

// fromDashboard reports whether the answer is the dashboard's own.
func (a reply) fromDashboard() bool { return a.header.Get(identity.ResponseMarker) == "1" }

// signInThroughProxy has the provider sign user in, starting where the
// proxy's sign-in button points, and returns the client with the proxy's
// session and the dashboard's answer for /projects.
func (p *proxied) signInThroughProxy(t *testing.T, proxy *oauth2proxytest.Proxy, user mockoidc.MockUser) (*http.Client, reply) {
	t.Helper()
	c := browserlessClient(t)
	p.idp.QueueUser(&user)
	a := fetch(t, c, http.MethodGet, proxy.URL+"/oauth2/start?rd="+url.QueryEscape("/projects"))
	return c, a
}

// TestOAuth2ProxyInFrontOfTheDashboard runs docs/security.md's recipe with
// the real oauth2-proxy in front of the real dashboard, signing people in at
// a mock provider with a plain HTTP client: every role, with and without
// preferred_username (which makes oauth2-proxy add
// X-Forwarded-Preferred-Username), the hostile look-alikes, the groups scope
// left out, and identity headers forged by the client.
func TestOAuth2ProxyInFrontOfTheDashboard(t *testing.T) {
	start := time.Now()
	p := startProxied(t)
	t.Logf("provider, dashboard and oauth2-proxy %s started in %s", oauth2proxytest.Version, time.Since(start).Round(time.Millisecond))

	for _, tc := range signInCases {
		t.Run(tc.name, func(t *testing.T) {
			_, a := p.signInThroughProxy(t, p.proxy, tc.user)
			if got := a.role(); got != tc.want {
				t.Fatalf("%s through oauth2-proxy: %s, want %s (%s)\n%.400s\nproxy log:\n%s", tc.user.Email, got, tc.want, a.url, a.body, lastLogLines(p.proxy.Logs(), 8))
			}
			if !a.fromDashboard() {
				t.Errorf("the dashboard's answer lacks %s", identity.ResponseMarker)
			}
		})
	}

	t.Run("group admin without the groups scope", func(t *testing.T) {
		defaultScope := p.startProxy(t, "")
		_, a := p.signInThroughProxy(t, defaultScope, person("gus@partner.test", "gus", "platform-admins"))
		if got := a.role(); got != "none" {
			t.Errorf("group admin behind oauth2-proxy's default scope: %s, want none (the provider sends no groups)", got)
		}
		_, a = p.signInThroughProxy(t, defaultScope, person("ada@example.com", "ada"))
		if got := a.role(); got != "admin" {
			t.Errorf("admin behind oauth2-proxy's default scope, with preferred_username: %s, want admin", got)
		}
	})

	t.Run("headers forged by the client", func(t *testing.T) {
		viewer, a := p.signInThroughProxy(t, p.proxy, person("vic@example.com", "vic"))
		if got := a.role(); got != "viewer" {
			t.Fatalf("viewer: %s", got)
		}
		for _, tc := range []struct {
			name    string
			headers []string
			want    string
		}{
			// oauth2-proxy removes these and sets its own.
			{"X-Forwarded-Email naming the admin", []string{"X-Forwarded-Email", "ada@example.com"}, "viewer"},
			{"X-Forwarded-User naming the admin", []string{"X-Forwarded-User", "ada@example.com"}, "viewer"},
			{"X-Forwarded-Groups with the admin group", []string{"X-Forwarded-Groups", "platform-admins"}, "viewer"},
			{"X-Forwarded-Preferred-Username naming the admin", []string{"X-Forwarded-Preferred-Username", "ada@example.com"}, "viewer"},
			{"two X-Forwarded-Email lines", []string{"X-Forwarded-Email", "ada@example.com", "X-Forwarded-Email", "gus@corp.test"}, "viewer"},
			// oauth2-proxy passes these on; the dashboard refuses them.
			{"X-Auth-Request-Email naming the admin", []string{"X-Auth-Request-Email", "ada@example.com"}, "refused"},
			{"X-Auth-Request-Groups with the admin group", []string{"X-Auth-Request-Groups", "platform-admins"}, "refused"},
		} {
			a := fetch(t, viewer, http.MethodGet, p.proxy.URL+"/projects", tc.headers...)
			if got := a.role(); got != tc.want {
				t.Errorf("viewer sending %s: %s, want %s\n%.300s", tc.name, got, tc.want, a.body)
			}
		}

		// Without the proxy's session nothing reaches the dashboard, forged
		// or not: the proxy answers with its own sign-in page, which an htmx
		// request must not paste into the page.
		nobody := browserlessClient(t)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			a := fetch(t, nobody, method, p.proxy.URL+"/projects", "X-Forwarded-Email", "ada@example.com", "X-Forwarded-Groups", "platform-admins", "HX-Request", "true")
			if a.fromDashboard() || a.status == http.StatusOK {
				t.Errorf("%s with forged headers and no proxy session: %d, marked as the dashboard's: %v", method, a.status, a.fromDashboard())
			}
			if !strings.Contains(a.body, "/oauth2/") {
				t.Errorf("%s without a proxy session: not the proxy's sign-in page:\n%.300s", method, a.body)
			}
		}
	})
	t.Run("sign out through the proxy", func(t *testing.T) {
		c, a := p.signInThroughProxy(t, p.proxy, person("ada@example.com", "ada"))
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(a.body))
		if err != nil {
			t.Fatal(err)
		}
		link, _ := doc.Find(`a[data-testid="sign-out"]`).Attr("href")
		if link != "/oauth2/sign_out" {
			t.Fatalf("sign-out link %q, want the proxy's /oauth2/sign_out", link)
		}
		fetch(t, c, http.MethodGet, p.proxy.URL+link)
		if a := fetch(t, c, http.MethodGet, p.proxy.URL+"/projects"); a.fromDashboard() {
			t.Errorf("after signing out, /projects is still the dashboard's: %d", a.status)
		}
	})
	if logs := p.dash.logs.String(); strings.Contains(logs, "X-Forwarded-Preferred-Username") {
		t.Errorf("the dashboard refused oauth2-proxy's own header:\n%s", lastLogLines(logs, 10))
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Millisecond))
}

// TestOAuth2ProxySessionEndedElsewhere: someone signed in through the proxy
// has a project open when their proxy session ends, as signing out in
// another tab does. Their next htmx submit is answered by the proxy, not the
// dashboard. That answer must take over the window, where the proxy's sign-in
// can run, instead of being pasted into the form's panel. Both ways a proxy
// answers are tried: its sign-in page, and (--skip-provider-button) a
// redirect to the identity provider, another origin.
func TestOAuth2ProxySessionEndedElsewhere(t *testing.T) {
	browsertest.Chromium(t) // skip before starting anything when there is no browser
	start := time.Now()
	p := startProxied(t)
	addr := oauth2proxytest.FreeAddr(t)
	redirecting := oauth2proxytest.Start(t, addr, append(proxyRecipe(p.idp, addr, p.dash.URL+"/", "openid email profile groups"), "--skip-provider-button=true")...)
	b := browsertest.New(t, browsertest.Options{Budget: 2 * time.Minute})
	// The proxy sends the form's request on to the provider; the browser
	// refuses to follow it to another origin (connect-src 'self') and htmx
	// logs the failed request, which app.js answers by loading the page again.
	b.Tolerate(regexp.MustCompile(`Connecting to '` + regexp.QuoteMeta(p.idp.Issuer()) + `/authorize\?.*"connect-src 'self'"|^error: htmx:(sendError|afterRequest), `))
	id := browsertest.TestID
	admin := person("ada@example.com", "ada")

	for _, tc := range []struct {
		name  string
		proxy *oauth2proxytest.Proxy
		// after is what the window shows once the page has loaded again.
		after chromedp.Action[chromedp.Void]
	}{
		{"sign-in page", p.proxy, browsertest.WaitGone(id("identity"))},
		// The provider signs the person in again without asking, so the page
		// comes back signed in.
		{"redirect to the provider", redirecting, browsertest.WaitText(id("identity"), "admin")},
	} {
		p.idp.QueueUser(&admin)
		b.Follow(tc.name+": sign in through the proxy", http.StatusOK, chromedp.Navigate(tc.proxy.URL+"/oauth2/start?rd=/projects"))
		b.Run(tc.name+": wait for the projects", browsertest.Visible(id("project-row")), browsertest.WaitText(id("identity"), "admin"))
		project := findProject(b, demoProjectWithoutAuth)
		b.Follow(tc.name+": open the project", http.StatusOK, chromedp.Navigate(tc.proxy.URL+"/projects/"+project))
		b.Run(tc.name+": wait for the enable form", browsertest.Visible(id("enable-form")))
		// A mark in the document tells whether the page was loaded again.
		browsertest.Get(b, tc.name+": mark the page", chromedp.Evaluate[bool](
			`document.body.insertAdjacentHTML("beforeend", '<i id="before-session-ended" hidden></i>'), true`))
		b.Run(tc.name+": end the proxy session", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.DeleteCookies, network.DeleteCookiesParams{Name: "_oauth2_proxy", URL: tc.proxy.URL})
			return err
		}))
		p.idp.QueueUser(&admin)
		b.Run(tc.name+": submit the form", chromedp.Click(id("enable-submit")))
		b.Run(tc.name+": wait for the page to load again", browsertest.WaitGone(chromedp.CSS("#before-session-ended")), tc.after)
		state := browsertest.Get(b, tc.name+": read the page", chromedp.Evaluate[string](`JSON.stringify({
			proxyForm: !!document.querySelector('form[action*="/oauth2/"]'),
			enableForm: !!document.querySelector('[data-testid="enable-form"]'),
			url: location.href,
		})`))
		t.Logf("%s: after the submit: %s", tc.name, state)
		want := `"proxyForm":false,"enableForm":true`
		if tc.proxy == p.proxy {
			want = `"proxyForm":true,"enableForm":false`
		}
		if !strings.Contains(state, want) {
			b.Fail(tc.name+": check what the window shows", fmt.Errorf("got %s, want %s", state, want))
		}
	}
	for _, problem := range b.Problems() {
		if strings.Contains(problem, "Uncaught") {
			t.Errorf("script error: %s", problem)
		}
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Millisecond))
}

// TestOIDCModeAgainstTheMockProvider signs the same people in with the
// dashboard's own OpenID Connect client instead of a proxy.
func TestOIDCModeAgainstTheMockProvider(t *testing.T) {
	start := time.Now()
	dbURL := pgtest.Require(t)
	idp := startIdP(t)
	addr := freeLoopbackAddr(t)
	env := map[string]string{
		"AUTH_MODE":               "oidc",
		"LISTEN_ADDR":             addr,
		"AUTH_OIDC_ISSUER":        idp.Issuer(),
		"AUTH_OIDC_CLIENT_ID":     idp.ClientID,
		"AUTH_OIDC_CLIENT_SECRET": idp.ClientSecret,
		"AUTH_OIDC_REDIRECT_URL":  "http://" + addr + "/auth/callback",
		"AUTH_OIDC_SCOPES":        "openid email profile groups",
	}
	for k, v := range signInPolicy {
		env[k] = v
	}
	dash := startDashboardEnv(t, dbURL, env)
	for _, tc := range signInCases {
		t.Run(tc.name, func(t *testing.T) {
			c := browserlessClient(t)
			idp.QueueUser(&tc.user)
			a := fetch(t, c, http.MethodGet, dash.URL+"/projects")
			if got := a.role(); got != tc.want {
				t.Fatalf("%s through the dashboard's sign-in: %s, want %s (%s)\n%.400s", tc.user.Email, got, tc.want, a.url, a.body)
			}
		})
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Millisecond))
}

// TestOAuth2ProxyRecipeIsTheDocumentedOne keeps the tests' oauth2-proxy
// flags and docs/security.md's recipe the same, so the recipe is the one
// shown to work.
func TestOAuth2ProxyRecipeIsTheDocumentedOne(t *testing.T) {
	doc, err := os.ReadFile("docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```sh\n(#[^\n]*\n)*oauth2-proxy \\\\\n(.*?)\n\n").FindSubmatch(doc)
	if block == nil {
		t.Fatal("docs/security.md has no sh block starting with the oauth2-proxy command")
	}
	flag := regexp.MustCompile(`--([a-z0-9-]+)`)
	var documented []string
	for _, m := range flag.FindAllSubmatch(block[2], -1) {
		documented = append(documented, string(m[1]))
	}
	tested := []string{"http-address"} // oauth2proxytest.Start adds it
	for _, a := range proxyRecipe(&mockoidc.MockOIDC{}, "127.0.0.1:4180", "http://127.0.0.1:8080/", "openid email profile groups") {
		tested = append(tested, flag.FindStringSubmatch(a)[1])
	}
	slices.Sort(documented)
	slices.Sort(tested)
	if !slices.Equal(documented, tested) {
		t.Errorf("docs/security.md's oauth2-proxy flags\n  %v\nare not the ones the test runs\n  %v", documented, tested)
	}
}

func lastLogLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
