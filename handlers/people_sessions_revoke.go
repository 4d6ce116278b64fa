package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// sessionFilterWords says a filter in words, for the confirmation and the
// audit line.
func sessionFilterWords(f neonauth.SessionFilter) string {
	words := []string{"active sessions"}
	if f.IncludeExpired {
		words[0] = "all sessions, expired ones included"
	}
	switch {
	case f.UserIsID():
		words = append(words, "of user "+f.User)
	case f.User != "":
		words = append(words, "of the user with email "+strings.TrimSpace(f.User))
	}
	switch {
	case f.IPPrefix():
		words = append(words, "from IP addresses starting "+f.IP)
	case f.IP != "":
		words = append(words, "from IP address "+f.IP)
	}
	if f.UserAgent != "" {
		words = append(words, strconv.Quote(f.UserAgent)+" in the user agent")
	}
	if f.Impersonated {
		words = append(words, "opened by impersonation")
	}
	if !f.CreatedFrom.IsZero() {
		words = append(words, "created on or after "+f.CreatedFrom.Format(browseDateLayout))
	}
	if !f.CreatedBefore.IsZero() {
		words = append(words, "created on or before "+f.CreatedBefore.Add(-24*time.Hour).Format(browseDateLayout))
	}
	return strings.Join(words, ", ")
}

// newRevokeConfirm is the confirmation page's view model for q.
func (h *Handler) newRevokeConfirm(c echo.Context, s usersScope, q views.SessionsQuery) views.RevokeSessionsConfirm {
	v := sessionsValues(q)
	v.Del("size")
	p := views.RevokeSessionsConfirm{
		BranchName: s.branchID,
		BackURL:    sessionsURL(s, "", v),
		Action:     sessionsPath(s) + "/revoke",
		Hidden:     map[string]string{},
		Errors:     map[string]string{},
		CSRFToken:  CSRFToken(c),
	}
	for k := range v {
		p.HiddenKey = append(p.HiddenKey, k)
		p.Hidden[k] = v.Get(k)
	}
	slices.Sort(p.HiddenKey)
	return p
}

// renderRevokeConfirm renders the confirmation page around p.
func (h *Handler) renderRevokeConfirm(c echo.Context, s usersScope, p views.RevokeSessionsConfirm, status int) error {
	info, problem, err := h.loadIntegration(c.Request().Context(), &s)
	if err != nil {
		return err
	}
	p.BranchName = branchLabel(info.branch)
	p.Chrome = h.chrome(c, "Revoke sessions · "+info.projectName,
		append(usersCrumbs(s, info, true), views.Crumb{Label: "Sessions", Href: sessionsPath(s)}, views.Crumb{Label: "Revoke"})...)
	if problem != nil && p.Problem == nil {
		p.Problem, status = problem, cmpStatus(problem.Status, http.StatusBadGateway)
	}
	return h.render(c, status, views.RevokeSessionsConfirmView(p))
}

// countForRevoke counts exactly what f matches into p, and answers with the
// status to send.
func (h *Handler) countForRevoke(ctx context.Context, s usersScope, q views.SessionsQuery, p *views.RevokeSessionsConfirm) (neonauth.SessionFilter, neonauth.People, int) {
	f, err := sessionsFilter(q)
	var people neonauth.People
	if err == nil {
		err = h.withPeople(neonauth.WithSlowLane(ctx), s.ref(), func(ctx context.Context, pp neonauth.People) error {
			people = pp
			p.Count, err = pp.CountMatchingSessions(ctx, f)
			return err
		})
	}
	switch {
	case err == nil:
		p.FilterWords = sessionFilterWords(f)
		return f, people, http.StatusOK
	case sessionFieldError(p.Errors, err):
		return f, nil, http.StatusBadRequest
	}
	prob := h.sessionsProblem(err)
	p.Problem = &prob
	return f, nil, prob.Status
}

// confirmRevokeSessions serves GET {branch}/sessions/revoke: how many
// sessions the filter matches, exactly, and the button that revokes them.
func (h *Handler) confirmRevokeSessions(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return err
	}
	q := readSessionsQuery(c)
	p := h.newRevokeConfirm(c, s, q)
	_, _, status := h.countForRevoke(c.Request().Context(), s, q, &p)
	return h.renderRevokeConfirm(c, s, p, status)
}

// revokeSessions serves POST {branch}/sessions/revoke: counts again, and
// revokes only when the count is the one confirmed. Up to one batch is
// revoked within the request; more run in the background (see
// Jobs), with a progress page that any replica serves.
func (h *Handler) revokeSessions(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return err
	}
	q := readSessionsQuery(c)
	p := h.newRevokeConfirm(c, s, q)
	confirmed, convErr := strconv.ParseInt(c.FormValue("count"), 10, 64)
	if convErr != nil || confirmed < 0 {
		p.Errors["count"] = "is missing; open the confirmation again"
		return h.renderRevokeConfirm(c, s, p, http.StatusBadRequest)
	}
	f, people, status := h.countForRevoke(c.Request().Context(), s, q, &p)
	if status != http.StatusOK {
		return h.renderRevokeConfirm(c, s, p, status)
	}
	identity.AddAuditAttrs(c, slog.String("filter", p.FilterWords), slog.Int64("matched", p.Count))
	if p.Count != confirmed {
		p.Changed = true
		identity.AddAuditAttrs(c, slog.Int64("confirmed", confirmed), slog.Int("revoked", 0))
		return h.renderRevokeConfirm(c, s, p, http.StatusConflict)
	}
	back := p.BackURL
	if p.Count <= neonauth.RevokeBatch || h.Jobs == nil {
		n, err := people.RevokeMatchingSessions(c.Request().Context(), f, nil)
		identity.AddAuditAttrs(c, slog.Int64("revoked", n))
		if err != nil {
			return h.sessionsChangeProblem(c, err, n)
		}
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Revoked %d %s. %s", n, sessionsWord(n), views.RevocationNote))
		return redirect(c, back)
	}
	j, err := h.Jobs.StartJob(c.Request().Context(), jobs.Revocation(s.ref(), f, p.FilterWords, p.Count, IdentityFrom(c).DisplayName(), time.Now()))
	if errors.Is(err, jobs.ErrActive) {
		prob := views.Problem{Title: "A revocation is already running", Message: "This branch has a revocation running; wait for it to finish, then confirm again.", Status: http.StatusConflict,
			Check: &views.Link{Label: "See how far it got", Href: sessionsPath(s) + "/revoke/progress"}}
		p.Problem = &prob
		return h.renderRevokeConfirm(c, s, p, http.StatusConflict)
	}
	if err != nil {
		return err
	}
	identity.AddAuditAttrs(c, slog.Bool("background", true), slog.Int64("job", j.ID))
	return redirect(c, sessionsPath(s)+"/revoke/progress")
}

// revocationProgress serves GET {branch}/sessions/revoke/progress.
func (h *Handler) revocationProgress(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return err
	}
	pr := views.RevocationProgress{URL: sessionsPath(s) + "/revoke/progress", BackURL: sessionsPath(s), None: true}
	j, ok, err := h.latestJob(c.Request().Context(), jobs.RevocationKey(s.ref()))
	if err != nil {
		return err
	}
	if ok {
		pr.None, pr.FilterWords, pr.Matched, pr.Revoked, pr.Running = false, j.Progress.Words, j.Progress.Total, j.Progress.Done, j.Active()
		if j.Status == jobs.Failed {
			pr.Failed = j.Error
		}
	}
	if isHTMX(c) {
		return h.render(c, http.StatusOK, views.RevocationProgressView(pr))
	}
	info, problem, err := h.loadIntegration(c.Request().Context(), &s)
	if err != nil {
		return err
	}
	if problem != nil {
		return h.render(c, cmpStatus(problem.Status, http.StatusBadGateway), views.ErrorPage(h.chrome(c, problem.Title), *problem))
	}
	return h.render(c, http.StatusOK, views.RevocationProgressPageView(views.RevocationProgressPage{
		Chrome: h.chrome(c, "Revoking sessions · "+info.projectName,
			append(usersCrumbs(s, info, true), views.Crumb{Label: "Sessions", Href: sessionsPath(s)}, views.Crumb{Label: "Revoking"})...),
		BranchName: branchLabel(info.branch),
		Progress:   pr,
	}))
}
