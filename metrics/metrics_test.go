package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/db"
)

// newServer is m's middleware in front of a project page that answers 401
// when the request names nobody, as the identity middleware would, and the
// /metrics endpoint.
func newServer(m *Metrics) *echo.Echo {
	e := echo.New()
	e.Use(m.Middleware)
	e.GET("/projects/:id", func(c echo.Context) error {
		if c.Request().Header.Get("X-Forwarded-Email") == "" {
			return echo.NewHTTPError(http.StatusUnauthorized)
		}
		return c.String(http.StatusOK, "project")
	})
	e.GET("/metrics", m.Serve)
	return e
}

func get(e *echo.Echo, path, peer string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

const (
	localPeer     = "127.0.0.1:5000"
	untrustedPeer = "203.0.113.9:41000"
)

func TestMetricsAccessAndLabels(t *testing.T) {
	m := New("")
	e := newServer(m)
	get(e, "/projects/p-123", "10.1.2.3:41000", "X-Forwarded-Email", "ada@example.com")
	get(e, "/projects/p-456", untrustedPeer)
	m.ObserveCall("createNeonAuthNewUser", 201, 30*time.Millisecond)
	m.ObserveRetry("listProjects")
	m.ObserveRateLimitWait(5 * time.Millisecond)
	m.ObserveSyncCheck(700 * time.Millisecond)

	if w := get(e, "/metrics", untrustedPeer); w.Code != http.StatusForbidden {
		t.Errorf("metrics from a remote peer without METRICS_TOKEN: %d, want 403", w.Code)
	}
	if w := get(e, "/metrics", localPeer, "X-Forwarded-For", "198.51.100.7"); w.Code != http.StatusForbidden {
		t.Errorf("metrics relayed by a local proxy: %d, want 403", w.Code)
	}
	w := get(e, "/metrics", localPeer)
	if w.Code != http.StatusOK {
		t.Fatalf("metrics from loopback: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`neonauth_dashboard_http_requests_total{method="GET",route="/projects/:id",status="200"} 1`,
		`neonauth_dashboard_http_requests_total{method="GET",route="/projects/:id",status="401"} 1`,
		`neonauth_dashboard_neon_api_calls_total{operation="createNeonAuthNewUser",status="201"} 1`,
		`neonauth_dashboard_neon_api_retries_total{operation="listProjects"} 1`,
		`neonauth_dashboard_neon_api_rate_limit_wait_seconds_count 1`,
		`neonauth_dashboard_sync_check_duration_seconds_count 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "p-123") {
		t.Error("a raw URL became a label")
	}

	te := newServer(New("scrape-token"))
	if w := get(te, "/metrics", localPeer); w.Code != http.StatusUnauthorized {
		t.Errorf("metrics without the token: %d, want 401", w.Code)
	}
	if w := get(te, "/metrics", untrustedPeer, "Authorization", "Bearer wrong"); w.Code != http.StatusUnauthorized {
		t.Errorf("metrics with a wrong token: %d, want 401", w.Code)
	}
	if w := get(te, "/metrics", untrustedPeer, "Authorization", "Bearer scrape-token"); w.Code != http.StatusOK {
		t.Errorf("metrics with the token: %d, want 200", w.Code)
	}
}

func TestPoolMetricsByLane(t *testing.T) {
	m := New("")
	err := m.RegisterPools(func() []db.PoolStat {
		return []db.PoolStat{
			{Target: "h:5432/app", Lane: "fast", Acquired: 1, Idle: 3, Total: 4, Max: 4},
			{Target: "h:5432/app", Lane: "slow", Acquired: 2, Total: 2, Max: 2, Waiting: 3},
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	body := get(newServer(m), "/metrics", localPeer).Body.String()
	for _, want := range []string{
		`neonauth_dashboard_db_pool_connections{lane="fast",state="acquired",target="h:5432/app"} 1`,
		`neonauth_dashboard_db_pool_connections{lane="slow",state="acquired",target="h:5432/app"} 2`,
		`neonauth_dashboard_db_pool_connections{lane="slow",state="waiting",target="h:5432/app"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestNeonSpendMetrics(t *testing.T) {
	m := New("")
	last := 12
	if err := m.RegisterNeonSpend(func() (int, int) { return last, 140 }); err != nil {
		t.Fatal(err)
	}
	e := newServer(m)
	body := get(e, "/metrics", localPeer).Body.String()
	for _, want := range []string{
		"neonauth_dashboard_neon_api_calls_last_minute 12",
		"neonauth_dashboard_neon_api_budget_per_minute 140",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	last = 30
	if body := get(e, "/metrics", localPeer).Body.String(); !strings.Contains(body, "neonauth_dashboard_neon_api_calls_last_minute 30") {
		t.Error("the spend is not read at scrape time")
	}
}
