package handlers

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// flowAPIKey is distinctive so that a leak anywhere is found by a plain
// substring search.
const flowAPIKey = "napi_flowtest_K3Y_that_must_never_leak_7f3a9c"

// exchange is one request the flow sent and the answer it got, kept whole.
type exchange struct {
	method, path string
	status       int
	header       http.Header
	body         string
}

// flowBrowser plays oauth2-proxy and a browser at once: it adds the identity
// headers of whoever is signed in and records every exchange.
type flowBrowser struct {
	base  http.RoundTripper
	email string

	mu   sync.Mutex
	seen []exchange
}

func (b *flowBrowser) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-User", strings.Split(b.email, "@")[0])
	r.Header.Set("X-Forwarded-Email", b.email)
	resp, err := b.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	b.mu.Lock()
	b.seen = append(b.seen, exchange{r.Method, r.URL.Path, resp.StatusCode, resp.Header.Clone(), string(body)})
	b.mu.Unlock()
	return resp, nil
}

func (b *flowBrowser) exchanges() []exchange {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]exchange(nil), b.seen...)
}

// TestSecurityFlowThroughTheRealServer drives enable → create user → delete
// user → new SDK keys → transfer → delete integration through the real routes in proxy
// mode, as an admin, then tries every state-changing route as a viewer. It
// checks that each change left exactly one audit line, and that neither the
// API key nor the secret server key reached a log line, a cookie or any
// response but the one that shows the secret once.
func TestSecurityFlowThroughTheRealServer(t *testing.T) {
	logs, audit := &lockedBuffer{}, &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics := metrics.New("")
	a := newTestApp(t,
		withSyncDelay(0),
		withNeonClient(flowAPIKey,
			neonapi.WithHTTPClient(&http.Client{Transport: identity.AuditTransport(nil)}),
			neonapi.WithObserver(metrics)),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{
				Auth: cfg, ListenAddr: "127.0.0.1:0", Logger: logger, AuditLog: audit,
			})
			if err != nil {
				t.Fatal(err)
			}
			h.Security = sec
			h.Metrics = metrics
			h.SyncMetrics = metrics
			h.Ready = NewReadiness(NeonReadiness(h.Auth.(NeonChecker)), nil)
			h.Logger = logger
		}))
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	project := "/projects/" + a.projectID

	home := a.get("/projects")
	home.wantStatus(t, http.StatusOK)
	if got := home.text("identity"); !strings.Contains(got, adminEmail) || !strings.Contains(got, "admin") {
		t.Errorf("header shows %q, want the admin's email and role", got)
	}
	if home.byTestID("anonymous-banner").Length() != 0 {
		t.Error("anonymous banner shown to a signed-in admin")
	}

	// Enable: the only response allowed to carry the secret.
	enabled := a.htmxPost(project+"/integrations", enableValues(a, "stack"))
	enabled.wantStatus(t, http.StatusCreated)
	secret, _ := enabled.byTestID("secret-key").Attr("data-secret")
	if !strings.HasPrefix(secret, "ssk_") {
		t.Fatalf("no secret server key in the enable response: %q", secret)
	}

	created := a.postForm(project+"/users", url.Values{"provider": {"stack"}, "email": {"flow@example.com"}, "name": {"Flow"}})
	created.wantStatus(t, http.StatusSeeOther)
	loc, err := url.Parse(created.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	uid := strings.TrimPrefix(loc.Path, project+"/users/")
	if uid == "" || strings.Contains(uid, "/") {
		t.Fatalf("cannot read the user id from %q", loc)
	}
	a.postForm(project+"/users/"+uid+"/delete", url.Values{"provider": {"stack"}, "confirm": {"yes"}}).wantStatus(t, http.StatusSeeOther)
	// New SDK keys: the only other response allowed to carry a secret, its own.
	renewed := a.postForm(project+"/integrations/stack/keys", url.Values{"understand": {"yes"}})
	renewed.wantStatus(t, http.StatusOK)
	newSecret, _ := renewed.byTestID("secret-key").Attr("data-secret")
	if !strings.HasPrefix(newSecret, "ssk_") || newSecret == secret {
		t.Fatalf("no new secret server key in the keys response: %q", newSecret)
	}
	a.postForm(project+"/integrations/stack/transfer", url.Values{"understand": {"yes"}}).wantStatus(t, http.StatusOK)
	deleted := a.postForm(project+"/integrations/stack/delete", url.Values{"confirm_name": {"demo-app"}})

	admin := audit.Lines(t)
	wantActions := []string{"neon_auth.enable", "user.create", "user.delete", "neon_auth.sdk_keys", "neon_auth.transfer", "neon_auth.delete"}
	if len(admin) != len(wantActions) {
		t.Fatalf("%d audit lines for %d changes:\n%s", len(admin), len(wantActions), audit)
	}
	posts := postsOf(browser.exchanges())
	for i, line := range admin {
		id := posts[i].header.Get("X-Request-Id")
		want := map[string]any{"audit": true, "action": wantActions[i], "actor": adminEmail, "role": "admin", "project": a.projectID,
			"status": float64(posts[i].status), "request_id": id, "neon_request_id": id}
		if i < 5 {
			want["outcome"] = "ok"
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("audit line %d (%s): %s = %v, want %v", i, wantActions[i], k, line[k], v)
			}
		}
		if _, ok := line["neon_status"]; !ok {
			t.Errorf("audit line %d (%s) does not say what Neon answered", i, wantActions[i])
		}
	}
	if admin[1]["target"] != "provider=stack email=flow@example.com" || admin[2]["target"] != "provider=stack user="+uid {
		t.Errorf("targets %q and %q", admin[1]["target"], admin[2]["target"])
	}
	if deleted.Status >= 400 && admin[5]["outcome"] != "error" {
		t.Errorf("delete answered %d but was audited as %v", deleted.Status, admin[5]["outcome"])
	}

	// A viewer's crafted post to every state-changing route the dashboard
	// serves is refused, and each refusal is audited once.
	browser.email = viewerEmail
	var mutating []string
	for _, r := range a.Handler.Echo().Routes() {
		if viewerPosts[r.Method+" "+r.Path] {
			continue // open to viewers by design (TestRouteTable)
		}
		if identity.Mutating(r.Method) && r.Method != echoRouteNotFound && !strings.HasPrefix(r.Path, "/auth/") {
			mutating = append(mutating, r.Method+" "+r.Path)
			path := strings.ReplaceAll(concretePath(r.Path), "sample-id", a.projectID)
			got := a.postForm(path, url.Values{"provider": {"stack"}, "email": {"v@example.com"}, "confirm": {"yes"}, "understand": {"yes"}, "confirm_name": {"demo-app"}})
			got.wantStatus(t, http.StatusForbidden)
			if got.byTestID("viewer").Length() != 1 {
				t.Errorf("%s %s: 403 without the viewer explanation", r.Method, r.Path)
			}
		}
	}
	if len(mutating) < len(wantActions) {
		t.Fatalf("found %d state-changing routes (%v), want at least %d", len(mutating), mutating, len(wantActions))
	}
	named := map[string]bool{}
	for _, r := range a.Handler.Routes() {
		named[r.Method+" "+r.Path] = r.Audit != ""
	}
	for _, m := range mutating {
		if !named[m] {
			t.Errorf("route %s has no audit action name", m)
		}
	}
	all := audit.Lines(t)
	if len(all) != len(admin)+len(mutating) {
		t.Fatalf("%d audit lines after %d viewer attempts, want %d", len(all), len(mutating), len(admin)+len(mutating))
	}
	for _, line := range all[len(admin):] {
		if line["outcome"] != "denied" || line["reason"] != "viewer" || line["actor"] != viewerEmail {
			t.Errorf("viewer attempt audited as %v", line)
		}
	}

	// Probes and metrics, from loopback without identity headers.
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusOK, "/metrics": http.StatusOK} {
		resp, err := http.Get(a.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" {
			for _, s := range []string{`operation="createNeonAuthNewUser"`, `route="/projects/:id/users/:uid/delete"`, `status="403"`} {
				if !bytes.Contains(body, []byte(s)) {
					t.Errorf("metrics lack %s", s)
				}
			}
		}
	}

	// Where the secrets went.
	for _, where := range []struct{ name, text string }{{"logs", logs.String()}, {"audit log", audit.String()}} {
		for _, s := range []string{flowAPIKey, secret, newSecret} {
			if strings.Contains(where.text, s) {
				t.Errorf("%s contain a secret (%.12s…)", where.name, s)
			}
		}
	}
	for _, x := range browser.exchanges() {
		if strings.Contains(x.body, flowAPIKey) || strings.Contains(headerText(x.header), flowAPIKey) {
			t.Errorf("%s %s: response carries the API key", x.method, x.path)
		}
	}
	for _, k := range []struct{ secret, shownBy string }{{secret, project + "/integrations"}, {newSecret, project + "/integrations/stack/keys"}} {
		showing := 0
		for _, x := range browser.exchanges() {
			if strings.Contains(headerText(x.header), k.secret) {
				t.Errorf("%s %s: response headers (cookies?) carry a secret key", x.method, x.path)
			}
			if strings.Contains(x.body, k.secret) {
				showing++
				if x.method != http.MethodPost || x.path != k.shownBy {
					t.Errorf("%s %s shows the secret key issued by %s", x.method, x.path, k.shownBy)
				}
			}
		}
		if showing != 1 {
			t.Errorf("%d responses show the secret key issued by %s, want exactly 1", showing, k.shownBy)
		}
	}
}

// echoRouteNotFound is the pseudo-method echo lists its not-found routes under.
const echoRouteNotFound = "echo_route_not_found"

// postsOf keeps the state-changing exchanges, in order.
func postsOf(xs []exchange) []exchange {
	var out []exchange
	for _, x := range xs {
		if identity.Mutating(x.method) {
			out = append(out, x)
		}
	}
	return out
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}
