package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFaultStatuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tests := []struct {
		kind   string
		status int
		code   string
	}{
		{"429", http.StatusTooManyRequests, codeRateLimited},
		{"503", http.StatusServiceUnavailable, codeUnavailable},
		{"423", http.StatusLocked, codeLocked},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			var armed struct {
				Faults []faultJSON `json:"faults"`
			}
			e.expect("POST", e.srv.URL+"/_sandbox/faults", `{"kind":"`+tt.kind+`","count":2,"path_contains":"/projects","retry_after_seconds":3}`, http.StatusCreated, &armed)
			if len(armed.Faults) != 1 || armed.Faults[0].Count != 2 {
				t.Fatalf("armed %+v", armed)
			}
			// Paths without the text are not affected.
			e.expect("GET", "/auth", nil, http.StatusOK, nil)
			for i := range 2 {
				res := e.request("GET", "/projects", nil, "X-Request-ID", "fault-"+tt.kind)
				if res.status != tt.status {
					t.Fatalf("request %d: status %d, want %d", i, res.status, tt.status)
				}
				if got := res.generalError(t); got.Code != tt.code || got.Message == "" || got.RequestID != "fault-"+tt.kind {
					t.Errorf("request %d: %+v", i, got)
				}
				if ra := res.header.Get("Retry-After"); (tt.kind == "429") != (ra == "3") {
					t.Errorf("Retry-After %q", ra)
				}
			}
			e.expect("GET", "/projects", nil, http.StatusOK, nil)
		})
	}
}

func TestFaultMalformed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.sb.InjectFault(Fault{Kind: FaultMalformed})
	res := e.request("GET", "/projects", nil)
	var v any
	if res.status != http.StatusOK || json.Unmarshal(res.body, &v) == nil {
		t.Fatalf("malformed: %d %s", res.status, res.body)
	}
	e.expect("GET", "/projects", nil, http.StatusOK, &v)
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.sb.InjectFault(Fault{Kind: FaultDrop, PathContains: "/auth"})
	// A fresh connection, so that the client does not retry on another one.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("GET", e.base+"/auth", nil)
	req.Header.Set("Authorization", "Bearer k")
	res, err := client.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped request answered %d", res.StatusCode)
	}
	e.expect("GET", "/auth", nil, http.StatusOK, nil)
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.expect("POST", e.srv.URL+"/_sandbox/faults", `{"kind":"hang","hang_ms":60000}`, http.StatusCreated, nil)
	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequest("GET", e.base+"/auth", nil)
	req.Header.Set("Authorization", "Bearer k")
	res, err := client.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("hanging request answered %d", res.StatusCode)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("want a client timeout, got %v", err)
	}
	e.expect("GET", "/auth", nil, http.StatusOK, nil)

	// A short hang lets the request through afterwards.
	e.sb.InjectFault(Fault{Kind: FaultHang, Hang: 10 * time.Millisecond})
	e.expect("GET", "/auth", nil, http.StatusOK, nil)
}

// TestFaultHangEndsWithClient hangs a request that carries a body, which the
// server only watches for a closed connection once the body is read. The hang
// must end when the client gives up, leaving the request unserved; a hang that
// ran its full minute would instead serve it and create the project.
func TestFaultHangEndsWithClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	handled := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			select {
			case handled <- struct{}{}:
			default:
			}
		}()
		e.sb.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.sb.InjectFault(Fault{Kind: FaultHang}) // DefaultHang
	req, _ := http.NewRequest("POST", srv.URL+apiPrefix+"/projects", strings.NewReader(`{"project":{"name":"abandoned"}}`))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 200 * time.Millisecond}).Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("hanging request answered %d", res.StatusCode)
	}
	<-handled
	var page struct {
		Projects []struct {
			Name string `json:"name"`
		} `json:"projects"`
	}
	e.expect("GET", "/projects", nil, http.StatusOK, &page)
	if len(page.Projects) != 0 {
		t.Errorf("projects %+v after the client gave up, want none", page.Projects)
	}
}

func TestFaultsClear(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.sb.InjectFault(Fault{Kind: FaultUnavailable, Count: 5})
	e.sb.InjectFault(Fault{Kind: "teapot"}) // invalid: ignored
	var armed struct {
		Faults []faultJSON `json:"faults"`
	}
	e.expect("GET", e.srv.URL+"/_sandbox/faults", nil, http.StatusOK, &armed)
	if len(armed.Faults) != 1 || armed.Faults[0].Kind != FaultUnavailable || armed.Faults[0].Count != 5 {
		t.Fatalf("armed %+v", armed)
	}
	res := e.request("DELETE", e.srv.URL+"/_sandbox/faults", nil)
	if res.status != http.StatusNoContent {
		t.Fatalf("clear: %d", res.status)
	}
	e.expect("GET", "/projects", nil, http.StatusOK, nil)
	// Control endpoints themselves are never faulted.
	e.sb.InjectFault(Fault{Kind: FaultUnavailable})
	e.expect("GET", e.srv.URL+"/_sandbox/faults", nil, http.StatusOK, nil)
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    Fault
		wantErr bool
	}{
		{"503", Fault{Kind: FaultUnavailable, Count: 1}, false},
		{"503:3", Fault{Kind: FaultUnavailable, Count: 3}, false},
		{"429:2:/auth/user", Fault{Kind: FaultRateLimited, Count: 2, PathContains: "/auth/user"}, false},
		{"drop:1:/projects", Fault{Kind: FaultDrop, Count: 1, PathContains: "/projects"}, false},
		{"empty:2:/auth/keys", Fault{Kind: FaultEmpty, Count: 2, PathContains: "/auth/keys"}, false},
		{"drop-after", Fault{Kind: FaultDropAfter, Count: 1}, false},
		{"hang-after:1:/auth/user", Fault{Kind: FaultHangAfter, Count: 1, PathContains: "/auth/user"}, false},
		{"body:1", Fault{}, true}, // a body fault needs its body, which the short form cannot carry
		{"500:1", Fault{}, true},
		{"hang:0", Fault{}, true},
		{"hang:x", Fault{}, true},
	}
	for _, tt := range tests {
		got, err := ParseFault(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestFaultsAfterServing checks the kinds that serve the request first: the
// project is created every time, and only the answer is spoilt.
func TestFaultsAfterServing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	projects := func() int {
		t.Helper()
		var page struct {
			Projects []struct {
				Name string `json:"name"`
			} `json:"projects"`
		}
		e.expect("GET", "/projects", nil, http.StatusOK, &page)
		return len(page.Projects)
	}
	create := func(client *http.Client, name string) (*http.Response, []byte, error) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.base+"/projects", strings.NewReader(`{"project":{"name":"`+name+`"}}`))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res, body, err
	}
	fresh := func() *http.Client { return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} }

	e.sb.InjectFault(Fault{Kind: FaultEmpty, PathContains: "/projects", Method: "POST"})
	if n := projects(); n != 0 { // a GET is not a POST: not faulted
		t.Fatalf("%d projects before any was created", n)
	}
	if len(e.sb.Faults()) != 1 {
		t.Fatal("a POST fault was used up by a GET")
	}
	res, body, err := create(fresh(), "empty")
	if err != nil || res.StatusCode != http.StatusCreated || string(body) != "{}" {
		t.Fatalf("empty: %v, %v %q; want 201 {}", err, res, body)
	}
	if n := projects(); n != 1 {
		t.Fatalf("empty: %d projects, want the one created", n)
	}

	e.expect("POST", e.srv.URL+"/_sandbox/faults", `{"kind":"body","path_contains":"/projects","body":"{\"project\":{\"id\":\"../x\"}}"}`, http.StatusCreated, nil)
	res, body, err = create(fresh(), "body")
	if err != nil || res.StatusCode != http.StatusCreated || string(body) != `{"project":{"id":"../x"}}` {
		t.Fatalf("body: %v, %v %q", err, res, body)
	}

	e.sb.InjectFault(Fault{Kind: FaultDropAfter, PathContains: "/projects"})
	if res, _, err := create(fresh(), "dropped"); err == nil {
		t.Fatalf("drop-after answered %d", res.StatusCode)
	}

	e.sb.InjectFault(Fault{Kind: FaultHangAfter, PathContains: "/projects"}) // DefaultHang
	client := fresh()
	client.Timeout = 300 * time.Millisecond
	if res, _, err := create(client, "timed-out"); err == nil {
		t.Fatalf("hang-after answered %d within the client's timeout", res.StatusCode)
	}
	e.sb.InjectFault(Fault{Kind: FaultHangAfter, PathContains: "/projects", Hang: 10 * time.Millisecond})
	if res, body, err := create(fresh(), "late"); err != nil || res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"late"`) {
		t.Fatalf("short hang-after: %v, %v %q; want the real answer, late", err, res, body)
	}
	if n := projects(); n != 5 {
		t.Errorf("%d projects, want 5: every faulted create was made", n)
	}
	// Faults after serving leave refusals alone.
	e.sb.InjectFault(Fault{Kind: FaultEmpty, PathContains: "/projects"})
	if got := e.request("GET", "/projects/no-such-project", nil); got.status != http.StatusNotFound {
		t.Errorf("empty over a 404: %d %s", got.status, got.body)
	}
}
