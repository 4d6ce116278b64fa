package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// faultOnce arms one sandbox fault of kind on requests with method to paths
// containing path.
func (a *testApp) faultOnce(kind sandbox.FaultKind, method, path string) {
	a.Sandbox.InjectFault(sandbox.Fault{Kind: kind, Method: method, PathContains: path, Hang: time.Minute})
}

// wantUnknownBecause is wantOutcomeUnknown for a timeout's 504 as well, with
// the title naming why.
func wantUnknownBecause(t *testing.T, r *testResponse, status int, title, checkHref string) {
	t.Helper()
	r.wantStatus(t, status)
	wantOutcomeUnknown(t, r, checkHref)
	if got := r.text("api-error"); !strings.Contains(got, title) || strings.Contains(strings.ToLower(got), "try again") {
		t.Errorf("error box = %q, want %q and no invitation to try again", got, title)
	}
}

// TestEmptyAnswerToNewSDKKeysShowsNoKeys: Neon issues the keys but answers
// {}. The page must not show keys (the secret is lost either way), and says
// the outcome is unknown with the request id and the project to check.
func TestEmptyAnswerToNewSDKKeysShowsNoKeys(t *testing.T) {
	for _, htmx := range []bool{true, false} {
		a := newTestApp(t)
		a.enableStack()
		a.faultOnce(sandbox.FaultEmpty, "POST", "/auth/keys")
		r := a.post("/projects/"+a.projectID+"/integrations/stack/keys", url.Values{"understand": {"yes"}}, htmx)
		wantUnknownBecause(t, r, http.StatusBadGateway, "Neon's answer was incomplete", "/projects/"+a.projectID)
		if r.byTestID("secret-key").Length() != 0 || r.byTestID("pub-client-key").Length() != 0 || r.byTestID("keys-result").Length() != 0 {
			t.Errorf("htmx=%t: keys shown from an empty answer:\n%s", htmx, r.Body)
		}
		if got := r.text("api-error"); !strings.Contains(got, "secret_server_key") {
			t.Errorf("htmx=%t: error box %q does not say what was missing", htmx, got)
		}
	}
}

// TestIncompleteAnswerToUserCreateIsNoSuccess: Neon creates the user but
// answers {} or with an id that is a path. No redirect to a sync page, no
// flash, no id echoed: the outcome is unknown, with the lookup to check,
// which then finds the user.
func TestIncompleteAnswerToUserCreateIsNoSuccess(t *testing.T) {
	answers := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"empty", sandbox.Fault{Kind: sandbox.FaultEmpty}},
		{"path as id", sandbox.Fault{Kind: sandbox.FaultBody, Body: `{"id":"../../../projects"}`}},
	}
	for _, provider := range providers {
		for _, ans := range answers {
			t.Run(string(provider)+"/"+ans.name, func(t *testing.T) {
				a := newUsersApp(t, usersAppConfig{})
				a.enable(provider)
				at := a.usersAt(provider)
				for i, htmx := range []bool{true, false} {
					f := ans.fault
					f.PathContains = "/auth/user"
					a.Sandbox.InjectFault(f)
					email := []string{"made-htmx@example.com", "made-plain@example.com"}[i]
					r := a.post(at.Path(""), url.Values{"provider": {string(provider)}, "email": {email}}, htmx)
					wantUnknownBecause(t, r, http.StatusBadGateway, "Neon's answer was incomplete", "q="+url.QueryEscape(email))
					if strings.Contains(r.Body, "../") || strings.Contains(r.Body, "Neon created") {
						t.Errorf("htmx=%t: the answer's id reached the page:\n%.2000s", htmx, r.Body)
					}
				}
				// The check finds what Neon did: both users exist.
				a.waitForSync()
				if got := a.get(a.usersPath(provider)).text("user-total"); got != "2" {
					t.Errorf("users after the unknown outcomes = %q, want 2", got)
				}
				look := a.htmxGet(a.usersSub(provider, "/lookup", "q=made-plain%40example.com"), "user-lookup")
				look.wantStatus(t, http.StatusOK)
				if look.byTestID("lookup-result").Length() != 1 {
					t.Errorf("the check link's lookup does not find the user:\n%s", look.Body)
				}
			})
		}
	}
}

// TestWriteAnswerLostIsAnUnknownOutcome drops the connection of each kind of
// change after the sandbox made it. Every page says the outcome is unknown,
// with the request id and where to check, never that it failed; and the
// change was made exactly once (the transport did not send it again).
func TestWriteAnswerLostIsAnUnknownOutcome(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(a *testApp) string // returns a user id when the write needs one
		method    string
		fault     string
		post      func(a *testApp, uid string) *testResponse
		checkHref func(a *testApp) string
		made      func(a *testApp, uid string) bool
	}{
		{
			name:   "create stack user",
			method: "POST",
			setup:  func(a *testApp) string { a.enableStack(); return "" },
			fault:  "/projects/auth/user",
			post: func(a *testApp, _ string) *testResponse {
				return a.htmxPost(a.usersPath(authprovider.Stack), url.Values{"provider": {"stack"}, "email": {"once@example.com"}})
			},
			checkHref: func(a *testApp) string { return "q=once%40example.com" },
			made: func(a *testApp, _ string) bool {
				_, err := a.Neon.CreateUser(context.Background(), neonapi.CreateUserRequest{ProjectID: a.projectID, AuthProvider: authprovider.Stack, Email: "once@example.com"})
				return errors.Is(err, neonapi.ErrConflict)
			},
		},
		{
			name:   "delete better_auth user",
			method: "DELETE",
			setup: func(a *testApp) string {
				a.enableBetterAuth()
				return a.seedUser(authprovider.BetterAuth, "gone@example.com", "")
			},
			fault: "/auth/users/",
			post: func(a *testApp, uid string) *testResponse {
				return a.postForm(a.usersAt(authprovider.BetterAuth).User(uid, "/delete"), url.Values{"confirm": {"yes"}})
			},
			checkHref: func(a *testApp) string { return "watch=delete" },
			made: func(a *testApp, uid string) bool {
				err := a.Neon.DeleteBranchUser(context.Background(), a.projectID, a.project.BranchID, uid)
				return errors.Is(err, neonapi.ErrNotFound)
			},
		},
		{
			name:   "set role",
			method: "PUT",
			setup: func(a *testApp) string {
				a.enableBetterAuth()
				return a.seedUser(authprovider.BetterAuth, "role@example.com", "")
			},
			fault: "/role",
			post: func(a *testApp, uid string) *testResponse {
				return a.htmxPost(a.usersAt(authprovider.BetterAuth).User(uid, "/role"), url.Values{"role": {"admin"}})
			},
			checkHref: func(a *testApp) string { return "watch=role" },
			made:      func(*testApp, string) bool { return true }, // the sync check shows it
		},
		{
			name:   "enable stack",
			method: "POST",
			fault:  "/projects/auth/create",
			post: func(a *testApp, _ string) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations", enableValues(a, "stack"))
			},
			checkHref: func(a *testApp) string { return "/projects/" + a.projectID },
			made:      func(a *testApp, _ string) bool { return len(a.integrations()) == 1 },
		},
		{
			name:   "delete stack",
			method: "DELETE",
			setup:  func(a *testApp) string { a.enableStack(); return "" },
			fault:  "/auth/integration/",
			post: func(a *testApp, _ string) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations/stack/delete", url.Values{"confirm_name": {"demo-app"}})
			},
			checkHref: func(a *testApp) string { return "/projects/" + a.projectID },
			made:      func(a *testApp, _ string) bool { return len(a.integrations()) == 0 },
		},
		{
			name:   "transfer",
			method: "POST",
			setup:  func(a *testApp) string { a.enableStack(); return "" },
			fault:  "/transfer_ownership",
			post: func(a *testApp, _ string) *testResponse {
				return a.postForm("/projects/"+a.projectID+"/integrations/stack/transfer", url.Values{"understand": {"yes"}})
			},
			checkHref: func(a *testApp) string { return "/projects/" + a.projectID },
			made: func(a *testApp, _ string) bool {
				ins := a.integrations()
				return len(ins) == 1 && ins[0].TransferStatus == neonapi.TransferInitiated
			},
		},
		{
			name:   "new SDK keys",
			method: "POST",
			setup:  func(a *testApp) string { a.enableStack(); return "" },
			fault:  "/auth/keys",
			post: func(a *testApp, _ string) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations/stack/keys", url.Values{"understand": {"yes"}})
			},
			checkHref: func(a *testApp) string { return "/projects/" + a.projectID },
			made:      func(*testApp, string) bool { return true }, // keys are not listed anywhere
		},
		{
			name:   "add trusted domain",
			method: "POST",
			setup:  func(a *testApp) string { a.enableBetterAuth(); return "" },
			fault:  "/auth/domains",
			post: func(a *testApp, _ string) *testResponse {
				return a.htmxPost(a.settingsPath("domains"), url.Values{"domain": {"https://once.example.com"}})
			},
			checkHref: func(a *testApp) string { return a.settingsPath("domains") },
			made: func(a *testApp, _ string) bool {
				ds := a.trustedDomains(a.t.(*testing.T))
				return len(ds) == 1 && ds[0] == "https://once.example.com"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, withSyncDelay(10*time.Millisecond))
			uid := ""
			if tt.setup != nil {
				uid = tt.setup(a)
			}
			a.faultOnce(sandbox.FaultDropAfter, tt.method, tt.fault)
			r := tt.post(a, uid)
			wantUnknownBecause(t, r, http.StatusBadGateway, "the connection to Neon dropped", tt.checkHref(a))
			if len(a.Sandbox.Faults()) != 0 {
				t.Fatal("the fault was not used: the write never reached Neon")
			}
			if !tt.made(a, uid) {
				t.Error("the change was not made exactly once")
			}
		})
	}
}

// directClient is a client of the sandbox with the default retry policy.
func (a *testApp) directClient() *neonapi.Client {
	a.t.Helper()
	c, err := neonapi.New("test-key", neonapi.WithBaseURL(a.NeonSrv.URL+"/api/v2"), neonapi.WithoutRateLimit())
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// integrations lists the seeded project's project-level integrations.
func (a *testApp) integrations() []neonapi.Integration {
	a.t.Helper()
	ins, err := a.Neon.ListIntegrations(context.Background(), a.projectID)
	if err != nil {
		a.t.Fatal(err)
	}
	return ins
}

// TestWriteTimedOutAfterSendingIsAnUnknownOutcome holds Neon's answer to a
// user it created past the client's attempt timeout, then past the
// dashboard's own request deadline. Both pages say the outcome is unknown,
// with the request id on the page, not only in a header, and the lookup to
// check; neither offers to try again.
func TestWriteTimedOutAfterSendingIsAnUnknownOutcome(t *testing.T) {
	t.Run("client timeout", func(t *testing.T) {
		a := newTestApp(t, withNeonClient("test-key", neonapi.WithRetryPolicy(neonapi.RetryPolicy{
			MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond})))
		// Enabled through a client of its own: the dashboard's gives each
		// attempt too little time for provisioning on a busy machine.
		a.Neon = a.directClient()
		a.enableStack()
		a.faultOnce(sandbox.FaultHangAfter, "POST", "/projects/auth/user")
		r := a.postForm(a.usersPath(authprovider.Stack), url.Values{"provider": {"stack"}, "email": {"slow@example.com"}})
		r.wantStatus(t, http.StatusGatewayTimeout)
		wantUnknownBecause(t, r, http.StatusGatewayTimeout, "Neon's answer took too long", "q=slow%40example.com")
	})
	t.Run("request deadline", func(t *testing.T) {
		a := newTestApp(t)
		a.enableStack()
		a.token()
		// The dashboard's own deadline, as REQUEST_TIMEOUT sets it.
		e := a.Handler.Echo()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 500*time.Millisecond)
			defer cancel()
			e.ServeHTTP(w, r.WithContext(ctx))
		}))
		t.Cleanup(srv.Close)
		a.Server = srv
		a.faultOnce(sandbox.FaultHangAfter, "POST", "/projects/auth/user")
		for _, htmx := range []bool{true, false} {
			email := map[bool]string{true: "late-htmx@example.com", false: "late-plain@example.com"}[htmx]
			r := a.post(a.usersPath(authprovider.Stack), url.Values{"provider": {"stack"}, "email": {email}}, htmx)
			r.wantStatus(t, http.StatusGatewayTimeout)
			wantUnknownBecause(t, r, http.StatusGatewayTimeout, "Neon's answer took too long", "q="+url.QueryEscape(email))
			if id := r.text("request-id"); id == "" || (r.Header.Get("X-Request-ID") != "" && id != r.Header.Get("X-Request-ID")) {
				t.Errorf("htmx=%t: request id on the page %q, header %q", htmx, id, r.Header.Get("X-Request-ID"))
			}
			a.faultOnce(sandbox.FaultHangAfter, "POST", "/projects/auth/user")
		}
	})
}

// TestRateLimitedWriteCarriesRetryAfter: Neon's 429 to a change reaches the
// browser with Neon's Retry-After, or a default when Neon sent none.
func TestRateLimitedWriteCarriesRetryAfter(t *testing.T) {
	a := newTestApp(t)
	a.enableStack()
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultRateLimited, Method: "POST", PathContains: "/projects/auth/user", RetryAfter: 7 * time.Second})
	r := a.htmxPost(a.usersPath(authprovider.Stack), url.Values{"provider": {"stack"}, "email": {"busy@example.com"}})
	r.wantStatus(t, http.StatusTooManyRequests)
	if got := r.Header.Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want Neon's 7", got)
	}
	if r.text("request-id") == "" || !strings.Contains(r.text("api-error"), "rate limiting") {
		t.Errorf("error box = %q", r.text("api-error"))
	}

	// A 429 without Retry-After, as a proxy might send.
	a2 := newTestApp(t, withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: stripRetryAfter{}})))
	a2.enableBetterAuth()
	a2.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultRateLimited, Method: "POST", PathContains: "/auth/domains"})
	r = a2.htmxPost(a2.settingsPath("domains"), url.Values{"domain": {"https://busy.example.com"}})
	r.wantStatus(t, http.StatusTooManyRequests)
	if got := r.Header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After = %q, want the default 5", got)
	}
}

// stripRetryAfter drops Retry-After from Neon's answers.
type stripRetryAfter struct{}

func (stripRetryAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if resp != nil {
		resp.Header.Del("Retry-After")
	}
	return resp, err
}
