package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// AuthSettings is the settings of branch-level Neon Auth as the handlers use
// them: loaded per group, changed one form at a time. Each change is checked
// in full before Neon is asked. *neonauth.SettingsService is one.
type AuthSettings interface {
	LoadSettings(ctx context.Context, projectID, branchID string, groups ...neonauth.SettingsGroup) (*neonauth.BranchSettings, error)
	AddTrustedDomain(ctx context.Context, bs *neonauth.BranchSettings, domain string) (string, error)
	RemoveTrustedDomain(ctx context.Context, bs *neonauth.BranchSettings, domain string) error
	SetAllowLocalhost(ctx context.Context, bs *neonauth.BranchSettings, allow bool) error
	UpdateEmailAndPassword(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.EmailAndPasswordForm) error
	AddOAuthProvider(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.OAuthProviderForm) error
	UpdateOAuthProvider(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.OAuthProviderForm) error
	RemoveOAuthProvider(ctx context.Context, bs *neonauth.BranchSettings, id string) error
	UpdateEmailServer(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.EmailServerForm) error
	SendTestEmail(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.TestEmailForm) (*neonauth.SendTestEmailResult, error)
	UpdateOrganization(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.OrganizationForm) error
	UpdateMagicLink(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.MagicLinkForm) error
	UpdatePhoneNumber(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.PhoneNumberForm) error
	UpdateWebhooks(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.WebhookForm) error
	UpdateApplication(ctx context.Context, bs *neonauth.BranchSettings, f neonauth.ApplicationForm) error
	// A copy of settings between branches (auth_copy.go).
	PlanCopy(ctx context.Context, projectID, from, to string, groups []neonauth.SettingsGroup, fullURLs bool) (*neonauth.CopyPlan, error)
	CheckCopy(p *neonauth.CopyPlan, in neonauth.CopyValues) neonauth.FieldErrors
	ApplyCopy(ctx context.Context, p *neonauth.CopyPlan, in neonauth.CopyValues, stepCtx func(context.Context) context.Context, done func(context.Context, neonauth.CopyStep, error)) *neonauth.CopyResult
}

var _ AuthSettings = (*neonauth.SettingsService)(nil)

// loadSettings reads the group's settings of the branch the route names.
// It returns nil and the error to answer with when the project or branch
// cannot be read.
func (h *Handler) loadSettings(c echo.Context, group neonauth.SettingsGroup) (*neonauth.BranchSettings, error) {
	projectID, err := projectIDParam(c)
	if err != nil {
		return nil, err
	}
	branchID := c.Param("branch")
	if !neonID.MatchString(branchID) {
		return nil, errNoBranch
	}
	// Pages read through the read cache: the dashboard's own changes drop
	// the project's cached reads, and "Refresh from Neon" (refreshProject)
	// shows changes made elsewhere. A form's post reads live, since the
	// change is checked against what Neon has now (the password Neon holds,
	// the providers configured); it writes right after, which drops the
	// project's cached reads anyway.
	ctx := c.Request().Context()
	if identity.Mutating(c.Request().Method) {
		ctx = neonauth.ReadLive(ctx)
	}
	return h.AuthSettings.LoadSettings(ctx, projectID, branchID, group)
}

// settingsFrame is the part of every settings page around its group.
func settingsFrame(c echo.Context, bs *neonauth.BranchSettings, group neonauth.SettingsGroup) views.SettingsFrame {
	return views.SettingsFrame{
		ProjectID: bs.ProjectID, ProjectName: bs.ProjectName,
		BranchID: bs.BranchID, BranchName: bs.BranchName,
		Group:     group,
		CanWrite:  IdentityFrom(c).CanWrite(),
		CSRFToken: CSRFToken(c),
	}
}

// settingsChrome is the layout of a settings page: consumes the flashes, so
// it is built once, just before the page renders.
func (h *Handler) settingsChrome(c echo.Context, bs *neonauth.BranchSettings, group neonauth.SettingsGroup) views.Chrome {
	return h.chrome(c, group.Title()+" · "+bs.BranchName,
		views.Crumb{Label: "Projects", Href: "/projects"},
		views.Crumb{Label: bs.ProjectName, Href: views.ProjectURL(bs.ProjectID)},
		views.Crumb{Label: "Neon Auth settings of " + bs.BranchName})
}

// settingsUnavailable explains that the branch has no branch-level Neon Auth
// to configure. It is a 404: there are no such settings to show or change.
func (h *Handler) settingsUnavailable(c echo.Context, bs *neonauth.BranchSettings, group neonauth.SettingsGroup) error {
	f := settingsFrame(c, bs, group)
	if isHTMX(c) {
		// A form on a page loaded before Neon Auth went away: a full page
		// load shows the explanation.
		return redirect(c, f.URL(group))
	}
	return h.render(c, http.StatusNotFound, views.SettingsUnavailableView(h.settingsChrome(c, bs, group), f, bs.NotBranchAuth.Provider))
}

// showSettingsIndex sends the settings' own address to their first group.
func (h *Handler) showSettingsIndex(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	branchID := c.Param("branch")
	if !neonID.MatchString(branchID) {
		return errNoBranch
	}
	return c.Redirect(http.StatusSeeOther, views.SettingsURL(projectID, branchID, neonauth.SettingsGroups[0]))
}

// showSettings serves one group's page: forms for admins, the values
// read-only for viewers.
func (h *Handler) showSettings(group neonauth.SettingsGroup) echo.HandlerFunc {
	return func(c echo.Context) error {
		bs, err := h.loadSettings(c, group)
		if err != nil {
			return err
		}
		if bs.NotBranchAuth != nil {
			return h.settingsUnavailable(c, bs, group)
		}
		return h.renderSettingsPage(c, http.StatusOK, bs, group)
	}
}

// renderSettingsPage renders a group's pristine page.
func (h *Handler) renderSettingsPage(c echo.Context, status int, bs *neonauth.BranchSettings, group neonauth.SettingsGroup) error {
	var page func(views.Chrome) templ.Component
	switch group {
	case neonauth.GroupDomains:
		m := h.domainsPage(c, bs)
		page = func(ch views.Chrome) templ.Component { return views.SettingsDomainsView(ch, m) }
	case neonauth.GroupSignIn:
		m := h.signInPage(c, bs)
		page = func(ch views.Chrome) templ.Component { return views.SettingsSignInView(ch, m) }
	case neonauth.GroupEmail:
		m := h.emailPage(c, bs)
		page = func(ch views.Chrome) templ.Component { return views.SettingsEmailView(ch, m) }
	case neonauth.GroupPlugins:
		m := h.pluginsPage(c, bs)
		page = func(ch views.Chrome) templ.Component { return views.SettingsPluginsView(ch, m) }
	case neonauth.GroupWebhooks:
		m := h.webhooksPage(c, bs)
		page = func(ch views.Chrome) templ.Component { return views.SettingsWebhooksView(ch, m) }
	default:
		m := h.applicationPage(c, bs)
		page = func(ch views.Chrome) templ.Component { return views.SettingsApplicationView(ch, m) }
	}
	return h.render(c, status, page(h.settingsChrome(c, bs, group)))
}

// loadProblem is the panel-level problem of a part that could not be read.
func (h *Handler) loadProblem(err error, what string) *views.Problem {
	if err == nil {
		return nil
	}
	p := h.panelProblem(err, "Could not read "+what)
	return &p
}

// settingsPost is one settings form's post, run by runSettingsPost.
type settingsPost struct {
	group neonauth.SettingsGroup
	// refused names Neon's refusal: "Neon did not add the domain".
	refused string
	// typed are the posted values by field name, checked for characters
	// that cannot be stored before anything else.
	typed map[string]string
	// apply makes the change through AuthSettings and returns the
	// confirmation to show.
	apply func(ctx context.Context, bs *neonauth.BranchSettings) (string, error)
	// render answers with the group's page, or for htmx the form's card:
	// with what was typed kept unless fresh, and the form's state.
	render func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error
}

// runSettingsPost is the life of a settings form's post. A refused form
// (characters that cannot be stored: 400; a field at fault: 422) or Neon's
// refusal shows in the form, with what was typed kept and nothing sent or
// half-saved. A change made redirects with a flash without JavaScript; for
// htmx the form's card comes back, read again from Neon, confirming it.
func (h *Handler) runSettingsPost(c echo.Context, p settingsPost) error {
	bs, err := h.loadSettings(c, p.group)
	if err != nil {
		return err
	}
	if bs.NotBranchAuth != nil {
		return h.settingsUnavailable(c, bs, p.group)
	}
	if errs := unstorableFields(p.typed); len(errs) > 0 {
		return p.render(c, bs, views.FormState{Errors: errs}, http.StatusBadRequest, false)
	}
	ctx := c.Request().Context()
	before := bs.AuditValues(p.group)
	saved, err := p.apply(ctx, bs)
	if err != nil {
		defer keepAnswering(c)()
		setNeonRetryAfter(c, err)
		noteUnknownOutcome(c, err)
		st, status := h.changeState(err, p.refused)
		if st.Problem != nil {
			// The settings page shows whether it was saved: the failed
			// write dropped the project's cached reads.
			*st.Problem = withCheck(*st.Problem, err, views.SettingsURL(bs.ProjectID, bs.BranchID, p.group), "See the saved settings now")
		}
		return p.render(c, bs, st, status, false)
	}
	// Named fields only: the forms' values (secrets among them) stay out.
	h.logger().Info("neon auth settings changed", "project", bs.ProjectID, "branch", bs.BranchID, "group", string(p.group), "change", saved)
	url := views.SettingsURL(bs.ProjectID, bs.BranchID, p.group)
	// Read once after the change, for the audit entry's after and for the
	// card htmx gets back; the page a redirect loads is then this read,
	// cached.
	fresh, err := h.AuthSettings.LoadSettings(ctx, bs.ProjectID, bs.BranchID, p.group)
	auditSettingsChange(c, p, before, fresh, err)
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, saved)
		return redirect(c, url)
	}
	if err != nil || fresh.NotBranchAuth != nil {
		// Saved, but the card cannot be shown again: the page load says why.
		h.addFlash(c, FlashSuccess, saved)
		return redirect(c, url)
	}
	return p.render(c, fresh, views.FormState{Saved: saved}, http.StatusOK, true)
}

// changeState is what a form shows after the service refused or failed a
// change, and the status to answer with.
func (h *Handler) changeState(err error, refused string) (views.FormState, int) {
	var invalid *neonauth.InvalidSettingsError
	if errors.As(err, &invalid) {
		return views.FormState{Errors: invalid.Fields}, http.StatusUnprocessableEntity
	}
	p := h.panelProblem(err, refused)
	return views.FormState{Problem: &p}, p.Status
}

// unstorableFields are the fields whose values cannot be stored, each with
// the message that says so.
func unstorableFields(typed map[string]string) map[string]string {
	var errs map[string]string
	for field, v := range typed {
		if unstorable(v) {
			if errs == nil {
				errs = map[string]string{}
			}
			errs[field] = unstorableMessage
		}
	}
	return errs
}

// settingsAnswer renders a form's answer: for htmx its card alone (the
// flash region emptied), else the group's whole page.
func (h *Handler) settingsAnswer(c echo.Context, status int, bs *neonauth.BranchSettings, group neonauth.SettingsGroup, card templ.Component, page func(views.Chrome) templ.Component) error {
	if isHTMX(c) {
		return h.render(c, status, views.SettingsFragment(card))
	}
	return h.render(c, status, page(h.settingsChrome(c, bs, group)))
}

// checked reads a checkbox: present means on.
func checked(c echo.Context, name string) bool { return c.FormValue(name) != "" }
