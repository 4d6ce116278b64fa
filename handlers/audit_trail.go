package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/views"
)

// AuditTrail reads the audit trail kept in the state store. *state.Store
// is one; its types are identity's, so handlers never reach the store
// directly.
type AuditTrail interface {
	ListAudit(ctx context.Context, f identity.AuditFilter) (identity.AuditPage, error)
	EachAudit(ctx context.Context, f identity.AuditFilter, fn func(identity.AuditEntry) error) error
}

// auditReadTimeout bounds one page of the trail, or a user's panel.
const auditReadTimeout = 5 * time.Second

// auditPanelRows is how many of a user's entries their detail page shows.
const auditPanelRows = 5

// auditRoutes are the audit trail's page and its export, for admins.
func (h *Handler) auditRoutes() []Route {
	const (
		get   = http.MethodGet
		admin = identity.Admin
	)
	return []Route{
		{get, views.AuditPath, h.showAudit, admin, "", "the audit trail, newest first: filter by person (`actor`), `action`, `project`, `branch`, `user` id, `target` text and time (`since`, `until`, UTC dates or date-times), keyset-paged by `before`/`after`; each entry's outcome, Neon's status and request id, and before/after of settings changes (secrets redacted). Without STATE_DATABASE_URL it says the trail lives in AUDIT_LOG only", false},
		{get, views.AuditPath + "/export", h.exportAudit, admin, "audit.export", "download the entries the audit filter matches (`?format=csv|jsonl`), streamed newest first; audited with the filter and the row count", false},
	}
}

// auditTextMax bounds each text field of the filter.
const auditTextMax = 200

// readAuditFilter reads the filter of the page and the export. errs are the
// fields refused, with what to type instead; the form keeps what was typed.
func readAuditFilter(c echo.Context) (views.AuditFilterForm, identity.AuditFilter, map[string]string) {
	q := c.QueryParams()
	form := views.AuditFilterForm{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Project: strings.TrimSpace(q.Get("project")), Branch: strings.TrimSpace(q.Get("branch")),
		User: strings.TrimSpace(q.Get("user")), Target: strings.TrimSpace(q.Get("target")),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
	}
	errs := map[string]string{}
	for name, v := range map[string]string{"actor": form.Actor, "action": form.Action, "project": form.Project,
		"branch": form.Branch, "user": form.User, "target": form.Target, "since": form.Since, "until": form.Until} {
		switch {
		case len(v) > auditTextMax:
			errs[name] = fmt.Sprintf("Keep it under %d characters.", auditTextMax)
		case unstorable(v):
			errs[name] = unstorableMessage
		}
	}
	f := identity.AuditFilter{Actor: form.Actor, Action: form.Action, Project: form.Project, Branch: form.Branch, User: form.User, Target: form.Target}
	var ok bool
	if f.Since, ok = parseAuditTime(form.Since); !ok && errs["since"] == "" {
		errs["since"] = "Give a date such as 2026-01-31, or a date and time such as 2026-01-31T09:00 (UTC)."
	}
	if f.Until, ok = parseAuditTime(form.Until); !ok && errs["until"] == "" {
		errs["until"] = "Give a date such as 2026-02-01, or a date and time such as 2026-02-01T09:00 (UTC)."
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) && errs["until"] == "" {
		errs["until"] = "The end must come after the start."
	}
	for name, cursor := range map[string]*int64{"before": &f.Before, "after": &f.After} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				errs["cursor"] = "The page position is not an entry number; start again from the newest entries."
			}
			*cursor = n
		}
	}
	if f.Before > 0 && f.After > 0 {
		errs["cursor"] = "The page position names two directions; start again from the newest entries."
	}
	return form, f, errs
}

// auditTimeLayouts are the times the filter reads, in UTC.
var auditTimeLayouts = []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", time.RFC3339}

// parseAuditTime reads a filter time; empty is no bound.
func parseAuditTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	for _, layout := range auditTimeLayouts {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// showAudit serves GET /audit: one page of the filter's entries.
func (h *Handler) showAudit(c echo.Context) error {
	p := views.AuditPage{NoStore: h.Audit == nil}
	if p.NoStore {
		p.Chrome = h.chrome(c, "Audit trail", views.Crumb{Label: "Audit trail"})
		return h.render(c, http.StatusOK, views.AuditPageView(p))
	}
	form, f, errs := readAuditFilter(c)
	p.Filter, p.Errors = form, errs
	if len(errs) > 0 {
		p.Rows = nil
		p.Chrome = h.chrome(c, "Audit trail", views.Crumb{Label: "Audit trail"})
		return h.render(c, http.StatusBadRequest, views.AuditPageView(p))
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), auditReadTimeout)
	defer cancel()
	page, err := h.Audit.ListAudit(ctx, f)
	status := http.StatusOK
	if err != nil {
		h.logger().Error("audit trail: read failed", "err", err, "request_id", requestID(c))
		p.Problem = auditReadProblem()
		status = p.Problem.Status
	}
	for _, e := range page.Entries {
		p.Rows = append(p.Rows, auditRow(e))
	}
	if n := len(page.Entries); n > 0 {
		q := form.Query()
		if page.HasNewer {
			q.Set("after", strconv.FormatInt(page.Entries[0].Seq, 10))
			p.NewerURL = views.AuditURL(q)
			q.Del("after")
		}
		if page.HasOlder {
			q.Set("before", strconv.FormatInt(page.Entries[n-1].Seq, 10))
			p.OlderURL = views.AuditURL(q)
		}
	}
	p.Chrome = h.chrome(c, "Audit trail", views.Crumb{Label: "Audit trail"})
	return h.render(c, status, views.AuditPageView(p))
}

// auditReadProblem explains a trail that cannot be read; the cause goes to
// the log, since a connection error may name the state database.
func auditReadProblem() *views.Problem {
	return &views.Problem{Title: "Could not read the audit trail",
		Message: "The state database (STATE_DATABASE_URL) did not answer. Changes are refused while the trail cannot be written; try again in a moment.",
		Status:  http.StatusServiceUnavailable}
}

// auditRow is an entry as the page shows it: the settings it changed as
// before and after, the other details as facts.
func auditRow(e identity.AuditEntry) views.AuditRow {
	r := views.AuditRow{
		Seq: e.Seq, At: e.At, Actor: e.Actor, Role: e.Role, Action: e.Action, Method: e.Method, Route: e.Route,
		Project: e.Project, Branch: e.Branch, Target: e.Target, TargetUser: e.TargetUser, Outcome: e.Outcome,
		Status: e.Status, NeonRequestID: e.NeonRequestID, RequestID: e.RequestID, Reason: e.Reason, Replica: e.Replica,
	}
	switch {
	case e.NeonStatus == nil:
	case *e.NeonStatus == 0:
		r.NeonStatus = "no answer"
	default:
		r.NeonStatus = strconv.Itoa(*e.NeonStatus)
	}
	before, _ := e.Details["before"].(map[string]any)
	after, _ := e.Details["after"].(map[string]any)
	var fields []string
	for k := range before {
		fields = append(fields, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			fields = append(fields, k)
		}
	}
	slices.Sort(fields)
	for _, k := range fields {
		r.Changes = append(r.Changes, views.AuditChangeRow{Field: k, Before: detailText(before[k]), After: detailText(after[k])})
	}
	var keys []string
	for k := range e.Details {
		if k != "before" && k != "after" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		r.Facts = append(r.Facts, views.AuditFact{Key: k, Value: detailText(e.Details[k])})
	}
	return r
}

// detailText shows one detail value: strings as they are, "—" for none,
// anything else as JSON.
func detailText(v any) string {
	switch t := v.(type) {
	case nil:
		return "—"
	case string:
		if t == "" {
			return "(empty)"
		}
		return t
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// userAuditPanel is the user's recent entries for their detail page: for
// admins, with a store. A trail that cannot be read degrades this panel
// alone.
func (h *Handler) userAuditPanel(c echo.Context, projectID, uid string) *views.AuditPanel {
	if h.Audit == nil || !IdentityFrom(c).CanWrite() {
		return nil
	}
	q := url.Values{"project": {projectID}, "user": {uid}}
	p := &views.AuditPanel{MoreURL: views.AuditURL(q)}
	ctx, cancel := context.WithTimeout(c.Request().Context(), auditReadTimeout)
	defer cancel()
	page, err := h.Audit.ListAudit(ctx, identity.AuditFilter{Project: projectID, User: uid, Limit: auditPanelRows})
	if err != nil {
		h.logger().Error("audit trail: read failed", "err", err, "request_id", requestID(c))
		p.Problem = auditReadProblem()
		return p
	}
	for _, e := range page.Entries {
		p.Rows = append(p.Rows, auditRow(e))
	}
	return p
}
