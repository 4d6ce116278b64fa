package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestProblemFor(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		status    int
		expected  bool
		requestID string
	}{
		{"neon 404", &neonapi.APIError{StatusCode: 404, Message: "project not found", RequestID: "r1"}, 404, true, "r1"},
		{"neon 409 wrapped", fmt.Errorf("enable: %w", &neonapi.APIError{StatusCode: 409, RequestID: "r2"}), 409, true, "r2"},
		{"neon 401 is the key's fault", &neonapi.APIError{StatusCode: 401, RequestID: "r3"}, http.StatusBadGateway, true, "r3"},
		{"neon 400", &neonapi.APIError{StatusCode: 400}, http.StatusUnprocessableEntity, true, ""},
		{"neon 423", &neonapi.APIError{StatusCode: 423}, http.StatusLocked, true, ""},
		{"neon 503", &neonapi.APIError{StatusCode: 503, RequestID: "r4"}, http.StatusBadGateway, true, "r4"},
		{"neon unreachable", &neonapi.RequestError{Operation: "getProject", Method: "GET", Path: "/projects/x", RequestID: "r5", Err: errors.New("connection refused")}, http.StatusBadGateway, true, "r5"},
		{"local rate limit", fmt.Errorf("wait: %w", neonapi.ErrRateLimited), http.StatusTooManyRequests, true, ""},
		{"timeout", context.DeadlineExceeded, http.StatusGatewayTimeout, true, ""},
		{"echo 404", echo.ErrNotFound, 404, true, ""},
		{"echo 500", echo.NewHTTPError(500, "internal detail"), 500, false, ""},
		{"anything else", errors.New("pq: password authentication failed for user x"), 500, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, expected := problemFor(tc.err)
			if p.Status != tc.status || expected != tc.expected || p.RequestID != tc.requestID {
				t.Errorf("problemFor = status %d expected %t request id %q; want %d %t %q", p.Status, expected, p.RequestID, tc.status, tc.expected, tc.requestID)
			}
			if p.Title == "" {
				t.Error("no title")
			}
			if !tc.expected && (p.Message == "internal detail" || p.Message == tc.err.Error()) {
				t.Errorf("internal error text reaches the browser: %q", p.Message)
			}
		})
	}
}

// TestHTTPErrorHandler serves errors through the real error handler: Neon's
// refusals are explained with its request id and not logged; anything else is
// a generic 500 that never shows the error's text, plus one log line, also
// when part of the answer had already gone out.
func TestHTTPErrorHandler(t *testing.T) {
	const internal = "pq: password authentication failed for user admin"
	cases := []struct {
		name      string
		handler   echo.HandlerFunc
		htmx      bool
		status    int
		wantText  string
		wantTitle bool
		logLines  int
	}{
		{
			name: "neon refusal, page",
			handler: func(echo.Context) error {
				return &neonapi.APIError{StatusCode: 409, Message: "already exists", RequestID: "req-9"}
			},
			status: http.StatusConflict, wantText: "already exists", wantTitle: true,
		},
		{
			name:    "unexpected, page",
			handler: func(echo.Context) error { return errors.New(internal) },
			status:  http.StatusInternalServerError, wantText: "It has been logged", wantTitle: true, logLines: 1,
		},
		{
			name:    "unexpected, htmx fragment",
			handler: func(echo.Context) error { return fmt.Errorf("load: %w", errors.New(internal)) },
			htmx:    true,
			status:  http.StatusInternalServerError, wantText: "It has been logged", logLines: 1,
		},
		{
			name:    "panic",
			handler: func(echo.Context) error { panic("boom: " + internal) },
			status:  http.StatusInternalServerError, wantText: "It has been logged", wantTitle: true, logLines: 1,
		},
		{
			name: "unexpected after the answer started",
			handler: func(c echo.Context) error {
				_ = c.String(http.StatusOK, "partial")
				return errors.New(internal)
			},
			status: http.StatusOK, wantText: "partial", logLines: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := &Handler{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			e := h.Echo()
			e.GET("/fail", tc.handler)
			req := httptest.NewRequest(http.MethodGet, "/fail", nil)
			if tc.htmx {
				req.Header.Set("HX-Request", "true")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.wantText) || strings.Contains(body, "password authentication") {
				t.Errorf("body lacks %q or shows the internal error:\n%s", tc.wantText, body)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Find("title").Length() == 1; got != tc.wantTitle {
				t.Errorf("full page = %t, want %t", got, tc.wantTitle)
			}
			if tc.status == http.StatusConflict && strings.TrimSpace(doc.Find(`[data-testid="request-id"]`).Text()) != "req-9" {
				t.Errorf("Neon's request id not shown:\n%s", body)
			}
			lines := strings.Count(logs.String(), "\n")
			if lines != tc.logLines {
				t.Fatalf("%d log lines, want %d:\n%s", lines, tc.logLines, logs.String())
			}
			if tc.logLines == 1 && (!strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "password authentication")) {
				t.Errorf("log line does not carry the error:\n%s", logs.String())
			}
		})
	}
}
