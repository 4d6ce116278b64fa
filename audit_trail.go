package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/state"
)

// auditPruneEvery is how often each replica prunes the audit trail; the
// prune's own lock lets one replica at a time do it.
const auditPruneEvery = time.Hour

// auditStore is store as the audit log writes to it; a nil store stays a
// nil interface, so audit lines go to AUDIT_LOG only.
func auditStore(store *state.Store) identity.AuditStore {
	if store == nil {
		return nil
	}
	return store
}

// auditTrail is store as the audit page reads it; nil without a store.
func auditTrail(store *state.Store) handlers.AuditTrail {
	if store == nil {
		return nil
	}
	return store
}

// startAuditRetention prunes entries older than retention at start and
// then every auditPruneEvery, until ctx ends; the returned func stops it
// and waits. Nothing runs without a store or with retention 0.
func startAuditRetention(ctx context.Context, store *state.Store, retention time.Duration, logger *slog.Logger) func() {
	if store == nil || retention <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(auditPruneEvery)
		defer t.Stop()
		for {
			n, err := store.PruneAudit(ctx, time.Now().Add(-retention))
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Error("audit trail: prune failed", "err", err)
			case n > 0:
				logger.Info("audit trail: pruned entries past retention", "entries", n, "retention", retention.String())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// registerAuditMetrics exports how many audit entries could not be stored
// after their change was made.
func registerAuditMetrics(m *metrics.Metrics, sec *identity.Security) error {
	return m.Registry().Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "dashboard_audit_store_failures_total",
		Help: "Audit entries that could not be appended to the audit trail after their change was made (their log lines went out, marked audit_stored=false).",
	}, func() float64 { return float64(sec.AuditAppendFailures()) }))
}
