package specvalidate

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const specPath = "../../testdata/neon-api-v2.2026-06-09.json"

// cannedServer answers every request with whatever the running case set.
type cannedServer struct {
	mu     sync.Mutex
	status int
	body   string
}

func (s *cannedServer) set(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *cannedServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	status, body := s.status, s.body
	s.mu.Unlock()
	if body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// TestTransportJudgesExchanges shows that the validator notices each kind of
// departure from the spec the conformance tests rely on it to notice, and
// stays quiet for exchanges that conform.
func TestTransportJudgesExchanges(t *testing.T) {
	canned := &cannedServer{}
	srv := httptest.NewServer(canned)
	t.Cleanup(srv.Close)
	spec, err := Load(specPath, srv.URL+"/api/v2")
	if err != nil {
		t.Fatal(err)
	}

	const generalError = `{"code":"","message":"not found","request_id":"req-1"}`
	tests := []struct {
		name          string
		method, path  string
		body          string
		noAuth        bool
		expectInvalid bool
		status        int
		respBody      string
		wantOp        string
		want          []string // substrings of the problems; none means it conforms
		reqErrs       []string // each way the request breaks the spec, in order
	}{
		{name: "conforming success", method: "GET", path: "/auth", status: 200,
			respBody: `{"account_id":"acc-1","auth_method":"api_key_user"}`, wantOp: "getAuthDetails"},
		{name: "enum broken in response", method: "GET", path: "/auth", status: 200,
			respBody: `{"account_id":"acc-1","auth_method":"password"}`, wantOp: "getAuthDetails",
			want: []string{"response 200", "/auth_method"}},
		{name: "required field missing in response", method: "GET", path: "/projects/p-1/auth/integrations", status: 200,
			respBody: `{}`, wantOp: "listNeonAuthIntegrations", want: []string{`property "data" is missing`}},
		{name: "email format checked", method: "POST", path: "/projects/auth/user",
			body: `{"project_id":"p-1","auth_provider":"stack","email":"not-an-email"}`, status: 201,
			respBody: `{"id":"u1"}`, wantOp: "createNeonAuthNewUser", want: []string{"request: ", "/email", "email address"},
			reqErrs: []string{"/email"}},
		{name: "pattern checked", method: "POST", path: "/projects/auth/keys",
			body: `{"project_id":"Not_A_Project","auth_provider":"stack"}`, status: 201,
			respBody: `{"auth_provider":"stack","auth_provider_project_id":"a","pub_client_key":"p","secret_server_key":"s","jwks_url":"j","schema_name":"neon_auth","table_name":"users_sync"}`,
			wantOp:   "createNeonAuthProviderSDKKeys", want: []string{"request: ", "/project_id"},
			reqErrs: []string{"/project_id"}},
		{name: "success status only covered by default", method: "POST", path: "/projects/auth/user",
			body: `{"project_id":"p-1","auth_provider":"stack","email":"a@example.com"}`, status: 200,
			respBody: `{"id":"u1"}`, wantOp: "createNeonAuthNewUser", want: []string{"status 200 is not documented", "[201]"}},
		{name: "conforming error", method: "GET", path: "/projects/p-1", status: 404,
			respBody: generalError, wantOp: "getProject"},
		{name: "error without request_id", method: "GET", path: "/projects/p-1", status: 404,
			respBody: `{"code":"","message":"not found"}`, wantOp: "getProject", want: []string{"no request_id"}},
		{name: "error not shaped like GeneralError", method: "GET", path: "/projects/p-1", status: 500,
			respBody: `{"error":"boom","request_id":"req-1"}`, wantOp: "getProject", want: []string{"response 500", `"message" is missing`}},
		{name: "error that is not JSON", method: "GET", path: "/projects/p-1", status: 502,
			wantOp: "getProject", want: []string{"response 502"}},
		{name: "missing bearer", method: "GET", path: "/auth", noAuth: true, status: 200,
			respBody: `{"account_id":"acc-1","auth_method":"api_key_user"}`, wantOp: "getAuthDetails",
			want: []string{"request: ", "authorization failed"}, reqErrs: []string{"authorization failed"}},
		{name: "missing bearer expected", method: "GET", path: "/auth", noAuth: true, expectInvalid: true, status: 401,
			respBody: `{"code":"","message":"no key","request_id":"req-1"}`, wantOp: "getAuthDetails",
			reqErrs: []string{"security requirements failed"}},
		{name: "negative test that is not negative", method: "GET", path: "/auth", expectInvalid: true, status: 200,
			respBody: `{"account_id":"acc-1","auth_method":"api_key_user"}`, wantOp: "getAuthDetails",
			want: []string{"request conforms to the spec"}},
		{name: "body where the operation takes none", method: "DELETE", path: "/projects/p-1/auth/users/u-1",
			body: `{"x":1}`, status: 204, wantOp: "deleteNeonAuthUser", want: []string{"request: "},
			reqErrs: []string{"request body not allowed"}},
		{name: "optional body accepted", method: "DELETE", path: "/projects/p-1/auth/integration/stack",
			body: `{"delete_data":true}`, status: 200, wantOp: "deleteNeonAuthIntegration"},
		{name: "query parameter range", method: "GET", path: "/projects?limit=0", status: 400,
			respBody: generalError, expectInvalid: true, wantOp: "listProjects", reqErrs: []string{`parameter "limit" in query`}},
		{name: "two violations told apart", method: "GET", path: "/projects?limit=0", noAuth: true, status: 401,
			respBody: generalError, expectInvalid: true, wantOp: "listProjects",
			reqErrs: []string{"security requirements failed", `parameter "limit" in query`}},
		{name: "unknown path", method: "GET", path: "/no/such/thing", status: 404,
			respBody: generalError, want: []string{"no operation in the spec matches"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			canned.set(tt.status, tt.respBody)
			tr := NewTransport(spec, nil)
			ctx := context.Background()
			if tt.expectInvalid {
				ctx = ExpectInvalidRequest(ctx)
			}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequestWithContext(ctx, tt.method, srv.URL+"/api/v2"+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.noAuth {
				req.Header.Set("Authorization", "Bearer test-key")
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("X-Request-ID", "req-1")
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || string(got) != tt.respBody {
				t.Errorf("response passed on as %d %q, want %d %q", resp.StatusCode, got, tt.status, tt.respBody)
			}

			log := tr.Exchanges()
			if len(log) != 1 {
				t.Fatalf("recorded %d exchanges, want 1", len(log))
			}
			ex := log[0]
			if ex.OperationID != tt.wantOp || ex.Status != tt.status {
				t.Errorf("recorded %s, want operation %q status %d", ex, tt.wantOp, tt.status)
			}
			if len(ex.RequestErrors) != len(tt.reqErrs) {
				t.Errorf("request errors %q, want %d mentioning %q", ex.RequestErrors, len(tt.reqErrs), tt.reqErrs)
			} else {
				for i, w := range tt.reqErrs {
					if !strings.Contains(ex.RequestErrors[i], w) {
						t.Errorf("request error %q does not mention %q", ex.RequestErrors[i], w)
					}
				}
			}
			problems := strings.Join(ex.Problems, "\n")
			t.Logf("problems: %s", problems)
			if len(tt.want) == 0 && problems != "" {
				t.Errorf("unexpected problems:\n%s", problems)
			}
			if len(tt.want) > 0 && problems == "" {
				t.Errorf("no problem reported, want one mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(problems, w) {
					t.Errorf("problems %q do not mention %q", problems, w)
				}
			}
		})
	}
}

func TestTransportForwardsBodyUnchanged(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"u1"}`)
	}))
	t.Cleanup(srv.Close)
	spec, err := Load(specPath, srv.URL+"/api/v2")
	if err != nil {
		t.Fatal(err)
	}
	// No name: the validator must not write the schema's defaults, or anything
	// else, into what the server receives.
	const sent = `{"project_id":"p-1","auth_provider":"stack","email":"a@example.com"}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/v2/projects/auth/user", strings.NewReader(sent))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	tr := NewTransport(spec, nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got != sent {
		t.Errorf("server received %q, want %q", got, sent)
	}
	if ex := tr.Exchanges(); len(ex) != 1 || len(ex[0].Problems) != 0 {
		t.Errorf("exchanges %+v, want one without problems", ex)
	}
}

func TestSpecOperations(t *testing.T) {
	spec, err := Load(specPath, "http://127.0.0.1:1/api/v2")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"createNeonAuthIntegration", "updateNeonAuthUserRole", "getConnectionURI"} {
		if !spec.HasOperation(op) {
			t.Errorf("HasOperation(%q) = false", op)
		}
	}
	if spec.HasOperation("createNeonAuthUserWithPassword") {
		t.Error("HasOperation accepts an operation the document lacks")
	}
}

func TestProjectIDListPattern(t *testing.T) {
	m, err := compilePattern(projectIDListPattern)
	if err != nil {
		t.Fatal(err)
	}
	many := strings.TrimSuffix(strings.Repeat("p-1,", 100), ",")
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"cold-poetry-09157238", true},
		{"cold-poetry-09157238,quiet-snow-71788278", true},
		{many, true},
		{many + ",p-2", false},
		{"Cold", false},
		{"a,,b", false},
		{"a,", false},
		{strings.Repeat("a", 61), false},
	}
	for _, tt := range tests {
		if got := m.MatchString(tt.in); got != tt.want {
			t.Errorf("MatchString(%.30q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
