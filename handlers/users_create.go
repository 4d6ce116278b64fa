package handlers

import (
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/views"
)

// validateCreateUser checks the create form against the spec's rules for
// NeonAuthCreateNewUserRequest, cleaning the values in place. It returns the
// status a refusal answers with, 0 when the form is fine: 400 for a value
// that cannot be stored at all, 422 for one that breaks a rule.
func validateCreateUser(f *views.CreateUserForm) int {
	f.Email = strings.TrimSpace(f.Email)
	f.Name = strings.TrimSpace(f.Name)
	if unstorable(f.Email) || unstorable(f.Name) {
		if unstorable(f.Email) {
			f.EmailError = unstorableMessage
		}
		if unstorable(f.Name) {
			f.NameError = unstorableMessage
		}
		f.Email, f.Name = shown(f.Email), shown(f.Name)
		return http.StatusBadRequest
	}
	switch n := utf8.RuneCountInString(f.Email); {
	case n == 0:
		f.EmailError = "Enter an email address."
	case n > 256:
		f.EmailError = fmt.Sprintf("An email address has at most 256 characters; this one has %d.", n)
	default:
		addr, err := mail.ParseAddress(f.Email)
		if err != nil || addr.Name != "" || addr.Address != f.Email {
			f.EmailError = "Enter a plain email address such as ada@example.com (no name or angle brackets)."
		}
	}
	if n := utf8.RuneCountInString(f.Name); n > 255 {
		f.NameError = fmt.Sprintf("A display name has at most 255 characters; this one has %d.", n)
	}
	if f.EmailError != "" || f.NameError != "" {
		return http.StatusUnprocessableEntity
	}
	return 0
}

// createUser serves POST /projects/:id/users: it validates the form, has the
// Neon Auth service create the user and starts the live sync check.
func (h *Handler) createUser(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	f := views.CreateUserForm{
		ProjectID: s.projectID,
		Provider:  s.provider,
		BranchID:  s.branchID,
		CSRFToken: CSRFToken(c),
		CanWrite:  true,
		Email:     c.FormValue("email"),
		Name:      c.FormValue("name"),
	}
	if status := validateCreateUser(&f); status != 0 {
		return h.renderCreateForm(c, s, f, status)
	}
	created, err := h.Auth.CreateUser(c.Request().Context(), s.ref(), f.Email, f.Name)
	if err != nil {
		defer keepAnswering(c)()
		// Whether Neon created it shows in the table: look the email up.
		p := h.changeProblem(c, err, "Could not create the user", views.LookupURL(s.at(), f.Email), "Look "+f.Email+" up in the users table")
		f.Problem = &p
		return h.renderCreateForm(c, s, f, p.Status)
	}
	since := time.Now()
	h.Auth.UsersChanged(c.Request().Context(), s.ref())
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Created user %s (%s); watching for it in the database.", created.ID, f.Email))
		check := views.SyncCheck{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, UserID: created.ID, Watch: views.WatchCreate, Since: since.UnixMilli()}
		return c.Redirect(http.StatusSeeOther, views.SyncPageURL(check))
	}
	check := h.pendingCheck(s, created.ID, views.WatchCreate, since)
	fresh := views.CreateUserForm{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, CSRFToken: CSRFToken(c), CanWrite: true, Check: &check}
	return h.render(c, http.StatusCreated, views.CreateUserSection(fresh))
}

// renderCreateForm answers a create that did not go through: the form alone to
// htmx, the whole page otherwise, with what was typed kept.
func (h *Handler) renderCreateForm(c echo.Context, s usersScope, f views.CreateUserForm, status int) error {
	if isHTMX(c) {
		return h.render(c, status, views.CreateUserSection(f))
	}
	d, err := h.buildUsersPage(c, &s, "")
	if err != nil {
		return err
	}
	if d.page.Problem == nil {
		d.page.Create = f
	}
	return h.render(c, status, views.UsersPageView(d.page))
}
