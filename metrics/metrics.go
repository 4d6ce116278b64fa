// Package metrics holds the dashboard's Prometheus metrics: HTTP requests by
// route pattern, Neon API calls, sync checks and database pools, and the
// /metrics endpoint with its access rule.
package metrics

import (
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/secret"
)

// metricsNamespace prefixes every metric the dashboard defines.
const metricsNamespace = "neonauth_dashboard"

// Metrics holds the dashboard's Prometheus metrics in a registry of its own,
// so nothing registered globally by a library leaks into /metrics. It is the
// Neon client's Observer (neonapi.WithObserver) and the users page's sync
// check timer.
type Metrics struct {
	// token, when set, is the bearer token scrapers must send
	// (METRICS_TOKEN); without it only loopback peers are answered.
	token         secret.Value
	registry      *prometheus.Registry
	handler       http.Handler
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	neonCalls     *prometheus.CounterVec
	neonDuration  *prometheus.HistogramVec
	neonRetries   *prometheus.CounterVec
	rateLimitWait prometheus.Histogram
	syncCheck     prometheus.Histogram
	// sharedFallbacks counts calls the local limiter let out because the
	// shared budget's store did not answer.
	sharedFallbacks prometheus.Counter
}

// New creates and registers the dashboard's metrics, with the Go runtime and
// process collectors. token is METRICS_TOKEN: the bearer token /metrics asks
// for, or empty to answer loopback peers only.
func New(token secret.Value) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		token:    token,
		registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		neonCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "neon_api_calls_total",
			Help: "Neon API calls, retries included, by operationId and final status (0: no response).",
		}, []string{"operation", "status"}),
		neonDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "neon_api_call_duration_seconds",
			Help:    "Neon API call time, retries and waits included, by operationId.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"operation"}),
		neonRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "neon_api_retries_total",
			Help: "Neon API attempts repeated after a retryable failure, by operationId.",
		}, []string{"operation"}),
		rateLimitWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "neon_api_rate_limit_wait_seconds",
			Help:    "Time Neon API calls spent queued by the client-side rate limiter.",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		syncCheck: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "sync_check_duration_seconds",
			Help:    "Time from a sync check's start until the user showed up in the database or the check gave up.",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 20, 30, 60},
		}),
		sharedFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "neon_api_shared_budget_fallbacks_total",
			Help: "Neon API calls the replica's own limiter let out because the state store's shared rate budget did not answer.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.neonCalls, m.neonDuration, m.neonRetries, m.rateLimitWait, m.syncCheck,
		m.sharedFallbacks,
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// Registry is the registry /metrics serves, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// ObserveCall counts one finished Neon API call (neonapi.Observer).
func (m *Metrics) ObserveCall(operation string, status int, d time.Duration) {
	m.neonCalls.WithLabelValues(operation, strconv.Itoa(status)).Inc()
	m.neonDuration.WithLabelValues(operation).Observe(d.Seconds())
}

// ObserveRetry counts one repeated attempt (neonapi.Observer).
func (m *Metrics) ObserveRetry(operation string) {
	m.neonRetries.WithLabelValues(operation).Inc()
}

// ObserveRateLimitWait records time queued by the client's limiter
// (neonapi.Observer).
func (m *Metrics) ObserveRateLimitWait(d time.Duration) {
	m.rateLimitWait.Observe(d.Seconds())
}

// ObserveSharedBudgetFallback counts one Neon call the local limiter let
// out in the shared budget's stead (neonapi.SharedBudgetObserver).
func (m *Metrics) ObserveSharedBudgetFallback() { m.sharedFallbacks.Inc() }

// ObserveSyncCheck records how long one sync check ran (SyncObserver). A nil
// *Metrics records nothing.
func (m *Metrics) ObserveSyncCheck(d time.Duration) {
	if m == nil {
		return
	}
	m.syncCheck.Observe(d.Seconds())
}

// RegisterPools exports the database pools' connection counts, read from
// stats at every scrape.
func (m *Metrics) RegisterPools(stats func() []db.PoolStat) error {
	return m.registry.Register(poolCollector{
		stats: stats,
		desc: prometheus.NewDesc(metricsNamespace+"_db_pool_connections",
			"Connections of the pools to users' databases, by target (host:port/database), lane (fast, slow, export) and state (acquired, idle, total, max, and waiting: queries asking for one).",
			[]string{"target", "lane", "state"}, nil),
	})
}

// RegisterNeonSpend exports the dashboard's spend of Neon's rate budget,
// read from spend at every scrape: the calls sent in the last minute and its
// budget per minute (0 when unlimited).
func (m *Metrics) RegisterNeonSpend(spend func() (lastMinute, perMinute int)) error {
	last := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "neon_api_calls_last_minute",
		Help: "Neon API requests this dashboard sent in the last sixty seconds, retries included.",
	}, func() float64 { n, _ := spend(); return float64(n) })
	budget := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "neon_api_budget_per_minute",
		Help: "The share of the API key's rate budget this dashboard may spend, in requests a minute (0: unlimited).",
	}, func() float64 { _, b := spend(); return float64(b) })
	for _, c := range []prometheus.Collector{last, budget} {
		if err := m.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// poolCollector reads pool statistics when scraped rather than copying them
// into gauges on a timer.
type poolCollector struct {
	stats func() []db.PoolStat
	desc  *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (p poolCollector) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

// Collect implements prometheus.Collector.
func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range p.stats() {
		for _, v := range []struct {
			state string
			n     int32
		}{{"acquired", s.Acquired}, {"idle", s.Idle}, {"total", s.Total}, {"max", s.Max}, {"waiting", s.Waiting}} {
			ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(v.n), s.Target, s.Lane, v.state)
		}
	}
}

// Middleware counts every response by route pattern (c.Path(), never the raw
// URL, which would give each project id its own series) and status. Errors
// are turned into responses here so the status is the one the browser saw.
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := methodLabel(c.Request().Method)
		m.httpRequests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel keeps made-up methods from creating series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// Serve answers scrapes. With METRICS_TOKEN set, a matching bearer token is
// required from any address. Without it, only direct loopback peers are
// answered, and not when the request came through a proxy on the same host
// (it carries forwarding headers), since that proxy also serves the outside
// world.
func (m *Metrics) Serve(c echo.Context) error {
	r := c.Request()
	if token := m.token.Reveal(); token != "" {
		got, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return c.String(http.StatusUnauthorized, "metrics need the bearer token set in METRICS_TOKEN\n")
		}
	} else if !loopbackPeer(r) || forwarded(r) {
		return c.String(http.StatusForbidden, "metrics are served to loopback only; set METRICS_TOKEN to scrape from elsewhere\n")
	}
	m.handler.ServeHTTP(c.Response(), r)
	return nil
}

// loopbackPeer reports whether the direct peer (RemoteAddr) is loopback.
func loopbackPeer(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, err := netip.ParseAddr(r.RemoteAddr)
		return err == nil && a.Unmap().IsLoopback()
	}
	return ap.Addr().Unmap().IsLoopback()
}

// forwarded reports whether a proxy relayed the request.
func forwarded(r *http.Request) bool {
	for _, h := range []string{echo.HeaderXForwardedFor, "Forwarded", "X-Real-Ip", echo.HeaderXForwardedProto} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}
