package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/neonauth-admin/dashboard/neonauth"
	"golang.org/x/sync/singleflight"
)

// Probe and metrics routes. None needs an identity: orchestrators and
// Prometheus call them.
const (
	healthPath  = "/healthz"
	readyPath   = "/readyz"
	metricsPath = "/metrics"
)

// readyCacheTTL is how long one readiness answer is reused. Probes every few
// seconds from several places would otherwise spend the Neon API budget.
const readyCacheTTL = 15 * time.Second

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// ReadyFunc reports whether the dashboard can do its job; a nil error means
// ready.
type ReadyFunc func(ctx context.Context) error

// NeonChecker checks that the Neon API answers with the configured key.
// *neonauth.Service is one.
type NeonChecker interface {
	CheckNeon(ctx context.Context) error
}

// NeonReadiness is ready when the Neon API answers with the configured key
// (GET /auth), which covers both reachability and a revoked key.
func NeonReadiness(neon NeonChecker) ReadyFunc { return neon.CheckNeon }

// Readiness caches ReadyFunc's answer and runs at most one check at a time,
// so probes every few seconds from several places do not spend the Neon API
// budget.
type Readiness struct {
	check ReadyFunc
	now   func() time.Time
	group singleflight.Group

	mu        sync.Mutex
	checkedAt time.Time
	err       error
}

// NewReadiness wraps check; nil now uses time.Now, and a nil check is
// always ready.
func NewReadiness(check ReadyFunc, now func() time.Time) *Readiness {
	if now == nil {
		now = time.Now
	}
	return &Readiness{check: check, now: now}
}

// Status is check's answer, reused for readyCacheTTL.
func (r *Readiness) Status(ctx context.Context) error {
	if r == nil || r.check == nil {
		return nil
	}
	r.mu.Lock()
	if !r.checkedAt.IsZero() && r.now().Sub(r.checkedAt) < readyCacheTTL {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	v, _, _ := r.group.Do("ready", func() (any, error) {
		// Detached from the probe's request: one impatient caller must not
		// cancel the answer every other caller is waiting for.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
		defer cancel()
		err := r.check(cctx)
		r.mu.Lock()
		r.checkedAt, r.err = r.now(), err
		r.mu.Unlock()
		return err, nil
	})
	err, _ := v.(error)
	return err
}

// healthz says the process is alive and serving.
func (h *Handler) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz says whether the Neon API is usable with the configured key, then,
// as details, where the dashboard keeps its state. The reason is short and
// fixed: never the key, never Neon's raw error text.
//
// A state store that does not answer is reported but does not make the
// replica unready: every replica shares it, so taking them all out of the
// load balancer would turn a degraded audit trail and job list into an
// outage.
func (h *Handler) readyz(c echo.Context) error {
	details := h.stateDetails(c.Request().Context())
	err := h.Ready.Status(c.Request().Context())
	if err == nil {
		return c.String(http.StatusOK, "ready\n"+details)
	}
	reason := notReadyReason(err)
	h.logger().Warn("not ready", "reason", reason, "err", err)
	return c.String(http.StatusServiceUnavailable, "not ready: "+reason+"\n"+details)
}

// stateDetails is /readyz's line about the state store.
func (h *Handler) stateDetails(ctx context.Context) string {
	if h.Store == nil {
		return "state: memory (STATE_DATABASE_URL is not set: run a single replica)\n"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// One query both proves the store answers and counts the replicas.
	n, err := h.Store.ReplicasSeen(ctx, time.Minute)
	if err != nil {
		h.logger().Warn("state store unreachable", "err", err)
		return "state: postgres, unreachable (replica " + h.Store.Replica() + ")\n"
	}
	return fmt.Sprintf("state: postgres (replica %s; %d %s seen in the last minute)\n", h.Store.Replica(), n, plural(n, "replica", "replicas"))
}

// plural is one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// notReadyReason names the failure class for a probe's answer.
func notReadyReason(err error) string {
	switch {
	case errors.Is(err, neonauth.ErrUnauthorized):
		return "neon api rejected the api key"
	case errors.Is(err, neonauth.ErrRateLimited):
		return "neon api is rate limiting"
	case errors.Is(err, context.DeadlineExceeded):
		return "neon api timed out"
	case errors.Is(err, neonauth.ErrUnavailable):
		return "neon api unreachable"
	}
	return "neon api check failed"
}

// serveMetrics answers Prometheus scrapes, with the access rule the metrics
// package enforces; without metrics there is nothing to scrape.
func (h *Handler) serveMetrics(c echo.Context) error {
	if h.Metrics == nil {
		return echo.ErrNotFound
	}
	return h.Metrics.Serve(c)
}
