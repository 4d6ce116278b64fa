package identity

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/requestid"
)

// auditAction names the action of the current request: the route table's
// audit action, or for a route missing from it, its method and pattern, so
// forgetting an entry loses a name, never a line.
func (s *Security) auditAction(c echo.Context) string {
	if r, ok := s.rule(c); ok && r.Audit != "" {
		return r.Audit
	}
	key := c.Request().Method + " " + c.Path()
	if c.Path() == "" {
		return c.Request().Method + " (no route) " + cut(c.Request().URL.Path, 200)
	}
	return key
}

// The outcomes an audit line records.
const (
	outcomeOK     = "ok"
	outcomeDenied = "denied"
	outcomeError  = "error"
)

// Auditor writes the audit log: one JSON line per state-changing request,
// tagged audit=true, to its own writer so it can be shipped and kept apart
// from operational logs. Lines carry who, what, where and how it ended; never
// a password, an API key or a secret key, since only named fields are logged.
//
// With a store (SecurityOptions.AuditStore) each line is also appended to
// the hash-chained audit trail, in the same request.
type Auditor struct {
	log *slog.Logger
	st  storeState
}

// NewAuditor writes audit lines to w; nil discards them.
func NewAuditor(w io.Writer) *Auditor {
	if w == nil {
		return &Auditor{log: slog.New(slog.DiscardHandler)}
	}
	return &Auditor{log: slog.New(slog.NewJSONHandler(w, nil)).With("audit", true)}
}

// auditEntry is one audit line before it is written.
type auditEntry struct {
	action string
	actor  Identity
	// anonymousActor marks a request that reached the audit without an
	// identity (signing out with an expired session).
	anonymousActor bool
	outcome        string
	status         int
	// neonStatus is Neon's answer to the last state-changing call, 0 for
	// none; neonCalled says whether there was such a call. neonRequestID is
	// that call's request id, the one to quote to Neon support.
	neonStatus    int
	neonCalled    bool
	neonRequestID string
	reason        string
	project       string
	branch        string
	target        string
	// change marks the line of one change within a request that makes
	// several (AuditChange); the request's own line follows them.
	change bool
	// details are a change's own facts (its before and after); a request's
	// line takes the handler's (AddAuditAttrs) instead.
	details []slog.Attr
}

func (a *Auditor) record(c echo.Context, e auditEntry) {
	r := c.Request()
	actor, role := e.actor.DisplayName(), string(e.actor.Role)
	if e.anonymousActor {
		actor, role = "unauthenticated", ""
	}
	attrs := []slog.Attr{
		slog.String("actor", actor),
		slog.String("role", role),
		slog.String("action", e.action),
		slog.String("method", r.Method),
		slog.String("route", c.Path()),
		slog.String("project", e.project),
		slog.String("branch", e.branch),
		slog.String("target", e.target),
		slog.String("outcome", e.outcome),
		slog.Int("status", e.status),
		slog.String("request_id", requestID(c)),
		slog.String("peer", peerString(r)),
	}
	if e.neonCalled {
		attrs = append(attrs, slog.Int("neon_status", e.neonStatus), slog.String("neon_request_id", e.neonRequestID))
	}
	if e.reason != "" {
		attrs = append(attrs, slog.String("reason", e.reason))
	}
	var extra []slog.Attr
	if !e.change {
		extra, _ = c.Get(auditAttrsKey).([]slog.Attr)
	} else {
		extra = e.details
	}
	attrs = append(attrs, extra...)
	attrs = append(attrs, a.store(c, auditRecord(c, e, actor, role, extra))...)
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "audit", attrs...)
}

// auditMutations writes one audit line for every state-changing request,
// whichever way it ends: done, refused (viewer, CSRF) or failed. It sits
// inside identity, so it knows the actor, and outside roles and CSRF, so it
// sees their refusals. Errors are turned into responses here, through the
// server's error handler, so the line records the status the browser got.
func (s *Security) auditMutations(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.audited(c) {
			return next(c)
		}
		trail := &neonTrail{}
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), neonTrailKey{}, trail)))
		c.Set(auditorKey, s.audit)

		err := next(c)
		if err != nil {
			c.Error(err)
		}
		e := auditEntry{action: s.auditAction(c), status: c.Response().Status}
		e.actor, e.anonymousActor = identityIfSet(c)
		if err != nil && !c.Response().Committed {
			e.status = statusOf(err)
		}
		neonStatus, neonRequestID, neonCalled := trail.result()
		e.neonStatus, e.neonRequestID, e.neonCalled = neonStatus, neonRequestID, neonCalled
		reason, _ := c.Get(deniedKey).(denyReason)
		switch {
		case reason != "":
			e.outcome, e.reason = outcomeDenied, string(reason)
		case err != nil || e.status >= 400 || neonCalled && (neonStatus == 0 || neonStatus >= 400):
			e.outcome = outcomeError
		default:
			e.outcome = outcomeOK
		}
		e.project, e.branch, e.target = auditSubjects(c)
		s.audit.record(c, e)
		return nil
	}
}

// identityIfSet returns the identity the middleware found, without the
// anonymous-admin default IdentityFrom falls back to.
func identityIfSet(c echo.Context) (Identity, bool) {
	id, ok := c.Get(identityKey).(Identity)
	return id, !ok
}

// statusOf is the status an error stands for when no response was written.
func statusOf(err error) int {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	return http.StatusInternalServerError
}

// auditSubjects reads what a request acted on from its route parameters and
// a few named form fields. Nothing else from the body is ever read, so a
// password field cannot reach the log.
func auditSubjects(c echo.Context) (project, branch, target string) {
	project = firstNonEmpty(c.Param("id"), c.Param("project"), formValue(c, "project_id"))
	branch = firstNonEmpty(c.Param("branch"), formValue(c, "branch_id"))
	var parts []string
	for _, p := range []struct{ name, value string }{
		{"provider", firstNonEmpty(c.Param("provider"), formValue(c, "provider"))},
		{"user", firstNonEmpty(c.Param("uid"), c.Param("user"), c.Param("user_id"))},
		{"email", formValue(c, "email")},
		{"role", formValue(c, "role")},
	} {
		if p.value != "" {
			parts = append(parts, p.name+"="+p.value)
		}
	}
	return cut(project, 100), cut(branch, 100), cut(strings.Join(parts, " "), 400)
}

// formValue reads one field of a form body, and only of a form body.
func formValue(c echo.Context, name string) string {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationForm) && !strings.HasPrefix(ct, echo.MIMEMultipartForm) {
		return ""
	}
	return strings.TrimSpace(c.FormValue(name))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// neonTrail collects, for one dashboard request, how its state-changing Neon
// calls ended. Handlers often show a Neon refusal inside the form with a 200
// or 4xx of their own; the trail lets the audit line say what Neon answered
// without any handler having to report it.
type neonTrail struct {
	mu        sync.Mutex
	called    bool
	last      int
	requestID string
	// parent is the request's trail when this one follows one change of a
	// request that makes several (ChangeContext); it hears every call too.
	parent *neonTrail
}

type neonTrailKey struct{}

// note records the answer to one attempt (0: none arrived) and its request
// id.
func (t *neonTrail) note(status int, requestID string) {
	t.mu.Lock()
	t.called, t.last, t.requestID = true, status, requestID
	t.mu.Unlock()
	if t.parent != nil {
		t.parent.note(status, requestID)
	}
}

// result is the last attempt's status and request id, and whether any call
// was made.
func (t *neonTrail) result() (status int, requestID string, called bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last, t.requestID, t.called
}

// AuditTransport wraps the Neon client's transport so audit lines record
// Neon's answer to state-changing calls. Retries pass through it once per
// attempt; the last attempt's status is the one that counts.
func AuditTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return auditTransport{base: base}
}

type auditTransport struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t auditTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if !Mutating(req.Method) {
		return resp, err
	}
	if trail, ok := req.Context().Value(neonTrailKey{}).(*neonTrail); ok {
		// The id the client sent, which Neon echoes; Neon's own, should it
		// answer with another.
		status, id := 0, req.Header.Get(requestid.Header)
		if err == nil {
			status = resp.StatusCode
			if echoed := resp.Header.Get(requestid.Header); echoed != "" {
				id = cut(echoed, 128)
			}
		}
		trail.note(status, id)
	}
	return resp, err
}

// audited reports whether the request gets an audit line: every
// state-changing request, and the reads whose route names an audit action
// because of what they hand out (an export of personal data).
func (s *Security) audited(c echo.Context) bool {
	if s.public(c) {
		return false
	}
	if Mutating(c.Request().Method) {
		return true
	}
	r, ok := s.rule(c)
	return ok && r.Audit != ""
}

// auditAttrsKey holds the facts a handler adds to its request's audit line.
const auditAttrsKey = "identity.auditAttrs"

// AddAuditAttrs adds facts only the handler knows (how many rows an export
// sent) to the request's audit line, which is written after the handler
// returns. Requests without an audit line ignore them.
func AddAuditAttrs(c echo.Context, attrs ...slog.Attr) {
	prev, _ := c.Get(auditAttrsKey).([]slog.Attr)
	c.Set(auditAttrsKey, append(prev, attrs...))
}

// auditorKey holds the request's Auditor for AuditChange.
const auditorKey = "identity.auditor"

// ChangeContext returns ctx for one change of a request that makes several
// Neon writes (a copy of settings between branches), so that AuditChange can
// say how Neon answered that change alone. The request's own audit line
// still hears every call.
func ChangeContext(ctx context.Context) context.Context {
	parent, _ := ctx.Value(neonTrailKey{}).(*neonTrail)
	return context.WithValue(ctx, neonTrailKey{}, &neonTrail{parent: parent})
}

// AuditChange writes the audit line of one change within the current
// request: its action (the same one the route making that change alone
// has), the project and branch it changed, what it targeted, and how it
// ended. ctx is the change's, from ChangeContext; err is what the change
// returned. The request's own line is written after the handler returns, as
// for every request. Requests without an audit line write none.
// details are the change's own facts, such as its before and after.
func AuditChange(ctx context.Context, c echo.Context, action, project, branch, target string, err error, details ...slog.Attr) {
	a, ok := c.Get(auditorKey).(*Auditor)
	if !ok {
		return
	}
	e := auditEntry{action: action, project: cut(project, 100), branch: cut(branch, 100), target: cut(target, 400), change: true, outcome: outcomeOK, status: http.StatusOK, details: details}
	e.actor, e.anonymousActor = identityIfSet(c)
	if trail, ok := ctx.Value(neonTrailKey{}).(*neonTrail); ok {
		e.neonStatus, e.neonRequestID, e.neonCalled = trail.result()
	}
	switch {
	case e.neonCalled && e.neonStatus == 0:
		// No answer arrived: the change may or may not have been made.
		e.outcome, e.status = outcomeError, http.StatusBadGateway
	case e.neonCalled && e.neonStatus >= 400:
		e.outcome, e.status = outcomeError, e.neonStatus
	case err != nil:
		e.outcome, e.status = outcomeError, statusOf(err)
	}
	a.record(c, e)
}
