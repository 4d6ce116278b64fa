package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/state"
	"github.com/neonauth-admin/dashboard/views"
)

// AuditStore keeps the audit trail: every line the Auditor writes is also
// appended there, hash-chained. *state.Store is one.
type AuditStore interface {
	AppendAudit(ctx context.Context, r state.AuditRecord) (state.AuditEntry, error)
	Ping(ctx context.Context) error
}

// The audit trail's types as the pages read them, so that handlers need not
// know where the trail is kept.
type (
	// AuditEntry is one stored entry.
	AuditEntry = state.AuditEntry
	// AuditFilter selects entries, with a keyset cursor.
	AuditFilter = state.AuditFilter
	// AuditPage is one page of entries, newest first.
	AuditPage = state.AuditPage
)

// auditStoreCheckTTL is how long one answer of the store is trusted before
// a change: about a second, so that a burst of changes costs one ping and a
// store that went away is noticed at once.
const auditStoreCheckTTL = time.Second

// auditStoreTimeout bounds a ping before a change and an append after it.
const auditStoreTimeout = 3 * time.Second

// storeState is the Auditor's store and what it last knew of it.
type storeState struct {
	store  AuditStore
	logger *slog.Logger
	// failures counts appends that failed after their change was made.
	failures atomic.Int64

	mu        sync.Mutex
	checkedAt time.Time
	err       error
}

// AuditAppendFailures is how many audit entries could not be stored after
// their change was made (their log lines went out, marked); for a metric.
func (s *Security) AuditAppendFailures() int64 { return s.audit.st.failures.Load() }

// ready reports whether the store answers, reusing an answer for
// auditStoreCheckTTL.
func (st *storeState) ready(ctx context.Context) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.checkedAt.IsZero() && time.Since(st.checkedAt) < auditStoreCheckTTL {
		return st.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditStoreTimeout)
	defer cancel()
	st.err, st.checkedAt = st.store.Ping(ctx), time.Now()
	return st.err
}

// forget drops the cached answer, after an append failed.
func (st *storeState) forget() {
	st.mu.Lock()
	st.checkedAt = time.Time{}
	st.mu.Unlock()
}

// denyAuditStore marks a change refused because the trail cannot be
// written.
const denyAuditStore denyReason = "audit_trail_unavailable"

// auditReady refuses an audited request with 503 when the audit trail
// cannot be written, before anything is changed: a change nobody can trace
// is worse than a change delayed. Signing out is let through, since it
// changes nothing anywhere else. It runs after roles and CSRF, so that
// their refusals keep their own answers.
func (s *Security) auditReady(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := &s.audit.st
		if st.store == nil || !s.audited(c) {
			return next(c)
		}
		if r, ok := s.rule(c); ok && r.Access == AnyRole {
			return next(c)
		}
		if err := st.ready(c.Request().Context()); err != nil {
			s.logger.Error("audit trail cannot be written: change refused", "err", err,
				"method", c.Request().Method, "route", c.Path(), "request_id", requestID(c))
			c.Set(deniedKey, denyAuditStore)
			return s.problem(c, http.StatusServiceUnavailable, views.AuthProblem{
				Title:  "The audit trail cannot be written",
				TestID: "audit-unavailable",
				Message: "The audit trail cannot be written, so no change was made. The dashboard's state database " +
					"(STATE_DATABASE_URL) does not answer; try again in a moment, and tell whoever runs the dashboard if it persists.",
				Contact: s.cfg.Contact,
			})
		}
		return next(c)
	}
}

// store appends e to the trail, if there is one, and returns the
// attributes that tell the log line how it went: its sequence number and
// hash, or that it could not be stored. The hash in the log stream, shipped
// elsewhere, anchors the chain outside the database: someone able to
// rewrite the whole table and its head could not rewrite the lines too.
func (a *Auditor) store(c echo.Context, rec state.AuditRecord) []slog.Attr {
	st := &a.st
	if st.store == nil {
		return nil
	}
	// The change is made: record it even if the browser has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), auditStoreTimeout)
	defer cancel()
	e, err := st.store.AppendAudit(ctx, rec)
	if err != nil {
		st.failures.Add(1)
		st.forget()
		st.logger.Error("audit trail: entry not stored; the audit log line carries it", "err", err,
			"action", rec.Action, "request_id", rec.RequestID)
		return []slog.Attr{slog.Bool("audit_stored", false)}
	}
	return []slog.Attr{slog.Int64("audit_seq", e.Seq), slog.String("audit_hash", e.Hash)}
}

// auditRecord is e as the store keeps it; details are the handler's
// attributes.
func auditRecord(c echo.Context, e auditEntry, actor, role string, details []slog.Attr) state.AuditRecord {
	r := c.Request()
	rec := state.AuditRecord{
		Actor: actor, Role: role, Action: e.action, Method: r.Method, Route: c.Path(),
		Project: e.project, Branch: e.branch, Target: e.target, Outcome: e.outcome, Status: e.status,
		RequestID: requestID(c), Peer: peerString(r), Reason: e.reason,
		Details: attrsMap(details),
	}
	if !e.change {
		rec.TargetUser = cut(firstNonEmpty(c.Param("uid"), c.Param("user"), c.Param("user_id")), 200)
	}
	if e.neonCalled {
		status := e.neonStatus
		rec.NeonStatus, rec.NeonRequestID = &status, e.neonRequestID
	}
	return rec
}

// attrsMap turns a handler's attributes into JSON values, groups into
// objects; nil for none.
func attrsMap(attrs []slog.Attr) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]any, len(attrs))
	for _, a := range attrs {
		v := a.Value.Resolve()
		switch v.Kind() {
		case slog.KindGroup:
			m[a.Key] = attrsMap(v.Group())
		case slog.KindTime:
			m[a.Key] = v.Time().UTC().Format(time.RFC3339Nano)
		case slog.KindDuration:
			m[a.Key] = v.Duration().String()
		case slog.KindAny:
			m[a.Key] = jsonable(v.Any())
		default:
			m[a.Key] = v.Any()
		}
	}
	return m
}

// jsonable is v if it encodes as JSON, else its text.
func jsonable(v any) any {
	if _, err := json.Marshal(v); err != nil {
		return fmt.Sprint(v)
	}
	return v
}
