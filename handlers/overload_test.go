package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestOverloadAnswers serves the failures that mean "not now" through the
// real error handler: each gets a full error page with its status, and the
// ones worth retrying say when in Retry-After. None is logged as unexpected.
func TestOverloadAnswers(t *testing.T) {
	cases := []struct {
		name       string
		ctx        func() (context.Context, context.CancelFunc)
		handler    echo.HandlerFunc
		status     int
		retryAfter string
		wantText   string
	}{
		{
			name: "shed by the rate limiter",
			handler: func(echo.Context) error {
				return &neonapi.RequestError{Operation: "listProjects", Method: "GET", Path: "/projects", RequestID: "r-1",
					Err: &neonapi.ShedError{Wait: 1500 * time.Millisecond, Limit: time.Second}}
			},
			status: http.StatusServiceUnavailable, retryAfter: "2", wantText: "The dashboard is busy",
		},
		{
			name: "past the request's deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			},
			handler: func(c echo.Context) error { return c.Request().Context().Err() },
			status:  http.StatusGatewayTimeout, wantText: "That took too long",
		},
		{
			name: "cancelled by the shutdown",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancelCause(context.Background())
				cancel(ErrShuttingDown)
				return ctx, func() {}
			},
			handler: func(c echo.Context) error {
				return &neonapi.RequestError{Operation: "listProjects", Err: c.Request().Context().Err()}
			},
			status: http.StatusServiceUnavailable, retryAfter: "5", wantText: "The dashboard is restarting",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := &Handler{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			e := h.Echo()
			e.GET("/fail", tc.handler)
			req := httptest.NewRequest(http.MethodGet, "/fail", nil)
			if tc.ctx != nil {
				ctx, cancel := tc.ctx()
				defer cancel()
				req = req.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			doc, err := goquery.NewDocumentFromReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Find("title").Length() != 1 || !strings.Contains(doc.Text(), tc.wantText) {
				t.Errorf("want a full error page saying %q, got:\n%s", tc.wantText, doc.Text())
			}
			if logs.Len() > 0 {
				t.Errorf("logged as unexpected:\n%s", logs.String())
			}
		})
	}
}

// TestShedNeonReadIsA503 puts a rate limit of one request a minute on the
// dashboard's Neon client: once it is spent, the projects page does not wait a
// minute for the next token but answers at once with a 503 that says when to
// come back.
func TestShedNeonReadIsA503(t *testing.T) {
	a := newTestApp(t, withNeonClient("test-key", neonapi.WithRateLimit(1, 1)))
	first := a.get("/projects")
	if first.Status != http.StatusOK {
		t.Fatalf("first page: status %d, want 200 (the one token lists the projects)", first.Status)
	}
	res, err := a.Client.Get(a.Server.URL + "/projects")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second page: status %d, Retry-After %q; want 503 with a Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if !strings.Contains(doc.Text(), "The dashboard is busy") {
		t.Errorf("page does not say the dashboard is busy:\n%s", doc.Text())
	}
}
