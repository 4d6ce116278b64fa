package neonapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// noRetries makes error tests see the first answer.
var noRetries = neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})

func TestAPIErrorParsing(t *testing.T) {
	const proxyPage = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title>
<style>body { font-family: sans-serif; }</style><script>var secret = "x";</script></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx &amp; friends</center></body></html>`

	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantCode    string
		wantMessage string
		wantID      string // "sent" = the X-Request-ID the client sent
		wantIs      error
		wantText    []string // substrings of Error()
	}{
		{
			name:   "Neon JSON with request id",
			status: 404, contentType: "application/json",
			body:     `{"request_id":"neon-req-1","code":"PROJECT_NOT_FOUND","message":"project not found"}`,
			wantCode: "PROJECT_NOT_FOUND", wantMessage: "project not found", wantID: "neon-req-1",
			wantIs:   neonapi.ErrNotFound,
			wantText: []string{"getProject", "404 Not Found", "project not found", "PROJECT_NOT_FOUND", "neon-req-1"},
		},
		{
			name:   "Neon JSON without request id",
			status: 409, contentType: "application/json",
			body:        `{"code":"","message":"integration already exists"}`,
			wantMessage: "integration already exists", wantID: "sent",
			wantIs:   neonapi.ErrConflict,
			wantText: []string{"409 Conflict", "integration already exists", "request id "},
		},
		{
			name:   "proxy HTML page",
			status: 502, contentType: "text/html",
			body:        proxyPage,
			wantMessage: "502 Bad Gateway 502 Bad Gateway nginx & friends", wantID: "sent",
			wantIs:   neonapi.ErrUnavailable,
			wantText: []string{"502 Bad Gateway: 502 Bad Gateway"},
		},
		{
			name:   "empty 502",
			status: 502,
			wantID: "sent", wantIs: neonapi.ErrUnavailable,
			wantText: []string{"neonapi: getProject: 502 Bad Gateway (request id "},
		},
		{
			name:   "plain text with control characters",
			status: 400, contentType: "text/plain",
			body:        "bad\r\ninput\x1b[31m\tnow",
			wantMessage: "bad input[31m now", wantID: "sent",
			wantIs: neonapi.ErrBadRequest,
		},
		{
			name:   "JSON message is sanitised too",
			status: 423, contentType: "application/json",
			body:        `{"code":"LOCKED","message":"project\nlocked\u0000 by operation"}`,
			wantCode:    "LOCKED",
			wantMessage: "project locked by operation", wantID: "sent",
			wantIs: neonapi.ErrLocked,
		},
		{
			name:   "key echoed back is redacted",
			status: 401, contentType: "text/plain",
			body:        "invalid token Bearer " + testKey,
			wantMessage: "invalid token Bearer [REDACTED]", wantID: "sent",
			wantIs: neonapi.ErrUnauthorized,
		},
		{
			// Redacting after truncation would leave the key's first bytes.
			name:   "key echoed where the message is cut is redacted whole",
			status: 401, contentType: "text/plain",
			body:        strings.Repeat("x", 140) + " " + testKey,
			wantMessage: strings.Repeat("x", 140) + " [REDACTED]", wantID: "sent",
			wantIs: neonapi.ErrUnauthorized,
		},
		{
			name:   "key echoed as HTML entities is redacted",
			status: 403, contentType: "text/html",
			body:        "<p>token &#" + strconv.Itoa(int(testKey[0])) + ";" + testKey[1:] + "</p>",
			wantMessage: "token [REDACTED]", wantID: "sent",
			wantIs: neonapi.ErrUnauthorized,
		},
		{
			name:   "key echoed in Neon JSON is redacted",
			status: 401, contentType: "application/json",
			body:     `{"code":"` + testKey + `","message":"bad ` + testKey + `","request_id":"` + testKey + `"}`,
			wantCode: "[REDACTED]", wantMessage: "bad [REDACTED]", wantID: "[REDACTED]",
			wantIs: neonapi.ErrUnauthorized,
		},
		{
			name:   "unknown status",
			status: 599,
			wantID: "sent", wantIs: neonapi.ErrUnavailable,
			wantText: []string{"status 599"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}, noRetries)
			_, err := c.GetProject(context.Background(), "p-1")
			var apiErr *neonapi.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %T %v, want *APIError", err, err)
			}
			sent := rec.all()[0].Header.Get("X-Request-ID")
			wantID := tt.wantID
			if wantID == "sent" {
				wantID = sent
			}
			if apiErr.StatusCode != tt.status || apiErr.Code != tt.wantCode || apiErr.Message != tt.wantMessage || apiErr.RequestID != wantID {
				t.Errorf("APIError = %+v\nwant status %d code %q message %q request id %q", apiErr, tt.status, tt.wantCode, tt.wantMessage, wantID)
			}
			if apiErr.Operation != "getProject" {
				t.Errorf("Operation = %q", apiErr.Operation)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			msg := err.Error()
			for _, s := range tt.wantText {
				if !strings.Contains(msg, s) {
					t.Errorf("Error() = %q, want it to contain %q", msg, s)
				}
			}
			if strings.Contains(msg, testKey[:8]) || strings.ContainsAny(msg, "<>\n\r\x1b") {
				t.Errorf("Error() = %q leaks the key, markup or control characters", msg)
			}
		})
	}
}

func TestAPIErrorBodyIsBounded(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		w.Write([]byte(`{"code":"X","message":"` + huge + `"}`))
	}, noRetries)
	_, err := c.GetProject(context.Background(), "p-1")
	var apiErr *neonapi.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	// Beyond 64 KiB the JSON is cut, so the message is a bounded excerpt.
	if len(apiErr.Message) > 200 || !strings.HasPrefix(apiErr.Message, `{"code":"X","message":"AAAA`) || !strings.HasSuffix(apiErr.Message, "…") {
		t.Errorf("message has %d bytes: %.80q...", len(apiErr.Message), apiErr.Message)
	}
	if len(err.Error()) > 300 {
		t.Errorf("Error() has %d bytes", len(err.Error()))
	}
}

func TestSentinelMatrix(t *testing.T) {
	sentinels := []error{
		neonapi.ErrBadRequest, neonapi.ErrUnauthorized, neonapi.ErrNotFound, neonapi.ErrConflict,
		neonapi.ErrLocked, neonapi.ErrRateLimited, neonapi.ErrUnavailable,
	}
	tests := []struct {
		status int
		want   error // nil: no sentinel matches
	}{
		{400, neonapi.ErrBadRequest},
		{401, neonapi.ErrUnauthorized},
		{403, neonapi.ErrUnauthorized},
		{404, neonapi.ErrNotFound},
		{409, neonapi.ErrConflict},
		{418, nil},
		{422, neonapi.ErrBadRequest},
		{423, neonapi.ErrLocked},
		{429, neonapi.ErrRateLimited},
		{500, neonapi.ErrUnavailable},
		{502, neonapi.ErrUnavailable},
		{503, neonapi.ErrUnavailable},
		{504, neonapi.ErrUnavailable},
	}
	for _, tt := range tests {
		var err error = &neonapi.APIError{StatusCode: tt.status}
		wrapped := errors.Join(errors.New("context"), err)
		for _, s := range sentinels {
			want := s == tt.want
			if got := errors.Is(wrapped, s); got != want {
				t.Errorf("status %d: errors.Is(%v) = %v, want %v", tt.status, s, got, want)
			}
		}
	}
}

func TestRequestErrors(t *testing.T) {
	// A port nothing listens on: connecting fails at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()

	t.Run("unreachable", func(t *testing.T) {
		c, err := neonapi.New(testKey, neonapi.WithBaseURL("http://"+deadAddr+"/api/v2"), neonapi.WithoutRateLimit(), noRetries)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetProject(neonapi.WithRequestID(context.Background(), "req-dead"), "p-1")
		var reqErr *neonapi.RequestError
		if !errors.As(err, &reqErr) {
			t.Fatalf("err = %T %v, want *RequestError", err, err)
		}
		if reqErr.Operation != "getProject" || reqErr.RequestID != "req-dead" || reqErr.Method != "GET" || reqErr.Path != "/projects/p-1" {
			t.Errorf("RequestError = %+v", reqErr)
		}
		if !errors.Is(err, neonapi.ErrUnavailable) {
			t.Errorf("unreachable Neon should match ErrUnavailable: %v", err)
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			t.Errorf("cause %v is not a *net.OpError", reqErr.Err)
		}
		if msg := err.Error(); !strings.Contains(msg, "getProject") || !strings.Contains(msg, "req-dead") || strings.Contains(msg, testKey) {
			t.Errorf("Error() = %q", msg)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		c, _ := newTestClient(t, reply(200, `{}`))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.GetProject(ctx, "p-1")
		var reqErr *neonapi.RequestError
		if !errors.As(err, &reqErr) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a RequestError wrapping context.Canceled", err)
		}
		if errors.Is(err, neonapi.ErrUnavailable) {
			t.Errorf("a cancelled call must not read as Neon unavailable")
		}
	})

	t.Run("malformed success body", func(t *testing.T) {
		for _, body := range []string{`{"project":{"id":`, `<html>oops</html>`, ``, `{"project":{"id":42}}`} {
			c, _ := newTestClient(t, reply(200, body))
			_, err := c.GetProject(context.Background(), "p-1")
			var reqErr *neonapi.RequestError
			if !errors.As(err, &reqErr) || !errors.Is(err, neonapi.ErrInvalidResponse) {
				t.Errorf("body %q: err = %v, want RequestError wrapping ErrInvalidResponse", body, err)
			}
			if errors.Is(err, neonapi.ErrUnavailable) {
				t.Errorf("body %q: an undecodable answer must not read as Neon unavailable", body)
			}
		}
	})
}
