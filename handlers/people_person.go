package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// personRoutes are the ban and the unban of one Better Auth user. The
// panels they change (ban, sessions, linked accounts, organizations) show on
// the user detail page.
func (h *Handler) personRoutes(base string) []Route {
	const (
		post  = http.MethodPost
		admin = identity.Admin
	)
	users := base + "/users"
	return []Route{
		{post, users + "/:uid/ban", h.banUser, admin, "user.ban", "ban a Better Auth user (`reason` up to 500 characters, optional; `expires` a UTC `YYYY-MM-DDTHH:MM`, empty for a permanent ban) and delete all their sessions, in one transaction of the branch's database; audited with the expiry and the number of sessions ended, never the reason", false},
		{post, users + "/:uid/unban", h.unbanUser, admin, "user.unban", "lift a Better Auth user's ban (clears banned, banReason and banExpires)", false},
	}
}

// personPanels reads the panels of a Better Auth user's detail page, each
// on its own, so that one failed read degrades its panel alone. Other
// providers have none: nil.
func (h *Handler) personPanels(c echo.Context, s usersScope, uid, dbName string) *views.PersonPanels {
	if s.provider != authprovider.BetterAuth {
		return nil
	}
	p := &views.PersonPanels{At: s.at(), UserID: uid, CanWrite: IdentityFrom(c).CanWrite(), CSRFToken: CSRFToken(c)}
	err := h.withPeople(c.Request().Context(), s.ref(), func(ctx context.Context, pp neonauth.People) error {
		if ban, err := pp.PersonBan(ctx, uid); err != nil {
			p.BanProblem = h.personProblem(err, dbName, "Could not read the ban", "user")
		} else {
			p.Ban = &ban
		}
		if ss, err := pp.PersonSessions(ctx, uid); err != nil {
			p.SessionsProblem = h.personProblem(err, dbName, "Could not read the sessions", "session")
		} else {
			p.Sessions = &ss
		}
		if as, err := pp.PersonAccounts(ctx, uid); err != nil {
			p.AccountsProblem = h.personProblem(err, dbName, "Could not read the linked accounts", "account")
		} else {
			p.Accounts = as
		}
		if ms, err := pp.PersonMemberships(ctx, uid); err != nil {
			p.MembershipsProblem = h.personProblem(err, dbName, "Could not read the organizations", "member")
		} else {
			p.Memberships = ms
		}
		return nil
	})
	if err != nil {
		p.Problem = h.personProblem(err, dbName, "Could not read sessions, accounts and bans", "user")
	}
	return p
}

// personProblem explains a failure under title ("Could not read the
// sessions"); table is the neon_auth table the work needed.
func (h *Handler) personProblem(err error, dbName, title, table string) *views.Problem {
	var p views.Problem
	switch {
	case errors.Is(err, neonauth.ErrUserNotFound):
		p = views.Problem{Title: "No such user", Message: "The branch's neon_auth.\"user\" table has no row with this id.", Status: http.StatusNotFound}
	case errors.Is(err, neonauth.ErrNoPeopleTables):
		p = views.Problem{Title: title + ": no Better Auth tables", Message: "This database holds Stack Auth's users_sync, which keeps no sessions, linked accounts or bans.", Status: http.StatusBadRequest}
	case errors.Is(err, neonauth.ErrSchemaMissing) && table != "user":
		p = views.Problem{Title: title + ": no neon_auth." + table + " table", Message: "The branch's database lacks Better Auth's " + table + " table.", Status: http.StatusServiceUnavailable}
	default:
		p = h.dbProblem(err, dbName)
		p.Title = title + ": " + p.Title
	}
	return &p
}

// banUser serves POST {branch}/users/:uid/ban: it bans the user and ends
// all their sessions in one transaction of the branch's database. The
// reason stays out of the audit line: it is free text about a person, and
// the audit log is kept longer and read more widely than the user table.
func (h *Handler) banUser(c echo.Context) error {
	s, uid, err := personRoute(c)
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	f := views.BanForm{Reason: shown(reason), Expires: shown(strings.TrimSpace(c.FormValue("expires")))}
	expires, ok := parseBanExpires(c.FormValue("expires"))
	if !ok {
		f.ExpiresError = "Give a date and time such as 2030-12-31T18:00 (UTC), or leave it empty for a permanent ban."
	}
	if _, err := neonauth.CheckBan(reason, expires, time.Now()); err != nil {
		banFieldError(&f, err)
	}
	if f.ReasonError != "" || f.ExpiresError != "" {
		return h.renderBanPanel(c, s, uid, f, http.StatusUnprocessableEntity)
	}
	var revoked int64
	err = h.withPeople(c.Request().Context(), s.ref(), func(ctx context.Context, pp neonauth.People) error {
		var err error
		revoked, err = pp.Ban(ctx, uid, reason, expires)
		return err
	})
	if err != nil {
		return h.banFailed(c, s, uid, f, err, "Could not ban the user")
	}
	until := "permanent"
	if expires != nil {
		until = expires.UTC().Format(time.RFC3339)
	}
	identity.AddAuditAttrs(c,
		slog.String("expires", until),
		slog.Int64("sessions_revoked", revoked),
		slog.Bool("reason_given", strings.TrimSpace(reason) != ""))
	h.Auth.UsersChanged(c.Request().Context(), s.ref())
	msg := fmt.Sprintf("Banned user %s permanently; %s ended.", uid, personSessionCount(revoked))
	if expires != nil {
		msg = fmt.Sprintf("Banned user %s until %s UTC; %s ended.", uid, expires.UTC().Format("2006-01-02 15:04"), personSessionCount(revoked))
	}
	h.addFlash(c, FlashSuccess, msg+" The app may accept a cached session for up to 5 minutes, and JWTs already issued stay valid until they expire.")
	return redirect(c, views.UserDetailURL(s.at(), uid))
}

// unbanUser serves POST {branch}/users/:uid/unban: it clears the user's
// ban.
func (h *Handler) unbanUser(c echo.Context) error {
	s, uid, err := personRoute(c)
	if err != nil {
		return err
	}
	err = h.withPeople(c.Request().Context(), s.ref(), func(ctx context.Context, pp neonauth.People) error {
		return pp.Unban(ctx, uid)
	})
	if err != nil {
		return h.banFailed(c, s, uid, views.BanForm{}, err, "Could not lift the ban")
	}
	h.Auth.UsersChanged(c.Request().Context(), s.ref())
	h.addFlash(c, FlashSuccess, fmt.Sprintf("Lifted the ban of user %s; they can sign in again.", uid))
	return redirect(c, views.UserDetailURL(s.at(), uid))
}

// personRoute reads the route of a ban or unban and refuses people whose
// role can only look.
func personRoute(c echo.Context) (usersScope, string, error) {
	s, uid, err := parseUserRoute(c)
	if err == nil {
		err = requireWrite(c)
	}
	return s, uid, err
}

// maxBanExpires bounds the expiry field; a datetime-local value is 16 to 19
// characters.
const maxBanExpires = 32

// parseBanExpires reads the expiry field: empty is a permanent ban (nil),
// otherwise a datetime-local value, with or without seconds, in UTC.
func parseBanExpires(v string) (*time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, true
	}
	if len(v) > maxBanExpires {
		return nil, false
	}
	for _, layout := range []string{views.BanExpiresLayout, views.BanExpiresLayout + ":05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return &t, true
		}
	}
	return nil, false
}

// banFieldError puts a refused reason or expiry next to its field.
func banFieldError(f *views.BanForm, err error) {
	var in *neonauth.InputError
	if !errors.As(err, &in) {
		return
	}
	switch in.Field {
	case "reason":
		f.ReasonError = "The reason " + in.Reason + "."
	case "expires":
		f.ExpiresError = "The end of the ban " + in.Reason + "."
	}
}

// banFailed answers a ban or unban the database did not make.
func (h *Handler) banFailed(c echo.Context, s usersScope, uid string, f views.BanForm, err error, title string) error {
	var in *neonauth.InputError
	if errors.As(err, &in) {
		banFieldError(&f, err)
		return h.renderBanPanel(c, s, uid, f, http.StatusUnprocessableEntity)
	}
	p := h.personProblem(err, "", title, "user")
	if outcomeUnknown(err) {
		// The commit may have gone through before the answer was lost.
		defer keepAnswering(c)()
		p.Title = title + ": the outcome is unknown"
		p.Message = "The database did not answer in time, so the change may or may not have been made. The ban state below was read again just now: check it before trying again."
		f.Unknown = true
	}
	f.Problem = p
	return h.renderBanPanel(c, s, uid, f, p.Status)
}

// outcomeUnknown reports a failure after which a change to the branch's
// database may have been made: the request ran out of time, or the
// connection was lost, possibly while committing.
func outcomeUnknown(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, neonauth.ErrUnreachable)
}

// renderBanPanel answers a ban or unban that did not go through: the ban
// panel to htmx, which swaps it in place, or the panel on a page of its
// own, what was typed kept either way. The ban state is read again unless
// the database just failed, or when a change's outcome is unknown.
func (h *Handler) renderBanPanel(c echo.Context, s usersScope, uid string, f views.BanForm, status int) error {
	p := views.PersonPanels{At: s.at(), UserID: uid, CanWrite: true, CSRFToken: CSRFToken(c), Form: f}
	if f.Problem == nil || f.Unknown {
		err := h.withPeople(c.Request().Context(), s.ref(), func(ctx context.Context, pp neonauth.People) error {
			ban, err := pp.PersonBan(ctx, uid)
			p.Ban = &ban
			return err
		})
		if err != nil {
			p.Ban, p.BanProblem = nil, h.personProblem(err, "", "Could not read the ban", "user")
		}
	}
	if isHTMX(c) {
		return h.render(c, status, views.BanPanel(p))
	}
	info, _, err := h.loadIntegration(c.Request().Context(), &s)
	if err != nil {
		return err
	}
	crumbs := append(usersCrumbs(s, info, true),
		views.Crumb{Label: uid, Href: views.UserDetailURL(s.at(), uid)},
		views.Crumb{Label: "Ban"})
	page := views.BanPage{Chrome: h.chrome(c, "Ban "+uid+" · "+info.projectName, crumbs...), Panels: p}
	return h.render(c, status, views.BanPageView(page))
}

// personSessionCount is "1 session" or "n sessions".
func personSessionCount(n int64) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}
