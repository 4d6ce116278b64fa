package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// Defaults for Settings left at zero.
const (
	defaultLatestUsers = 50
	defaultSyncTimeout = 30 * time.Second
	// dbPanelTimeout bounds the database work behind one page, so a database
	// that accepts connections but never answers cannot hold the page hostage.
	dbPanelTimeout = 5 * time.Second
)

// usersScope is the integration a users route addresses.
type usersScope struct {
	projectID string
	provider  neonapi.AuthProvider
}

func (s usersScope) target() UserTarget {
	return UserTarget{ProjectID: s.projectID, Provider: s.provider}
}

// parseUsersScope reads :id and provider (query or form). An empty provider is
// allowed only where the caller can pick one itself.
func parseUsersScope(c echo.Context, providerRequired bool) (usersScope, error) {
	id, err := projectIDParam(c)
	if err != nil {
		return usersScope{}, err
	}
	s := usersScope{projectID: id, provider: neonapi.AuthProvider(c.FormValue("provider"))}
	switch {
	case s.provider == "" && !providerRequired:
	case s.provider == neonapi.AuthProviderStack, s.provider == neonapi.AuthProviderBetterAuth:
	default:
		return s, echo.NewHTTPError(http.StatusBadRequest, "provider must be stack or better_auth.")
	}
	return s, nil
}

// validUserID accepts what a Neon Auth user id can be: a Stack Auth or Better
// Auth id, bounded and printable.
func validUserID(id string) bool {
	if id == "" || len(id) > 256 || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func (h *Handler) latestLimit() int {
	if h.Settings.LatestUsers > 0 {
		return h.Settings.LatestUsers
	}
	return defaultLatestUsers
}

func (h *Handler) syncTimeout() time.Duration {
	if h.Settings.SyncTimeout > 0 {
		return h.Settings.SyncTimeout
	}
	return defaultSyncTimeout
}

// validateCreateUser checks the create form against the spec's rules for
// NeonAuthCreateNewUserRequest and returns the cleaned values.
func validateCreateUser(f *views.CreateUserForm) bool {
	f.Email = strings.TrimSpace(f.Email)
	f.Name = strings.TrimSpace(f.Name)
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
	return f.EmailError == "" && f.NameError == ""
}

// integrationInfo is what the users page learns from Neon about the project.
type integrationInfo struct {
	projectName string
	integration neonapi.Integration
}

// loadIntegration fetches the project and its integration for scope (choosing
// the first integration when no provider was given). A *views.Problem result
// means the integration cannot be shown; a plain error (project not found) goes
// to the error page.
func (h *Handler) loadIntegration(ctx context.Context, s *usersScope) (integrationInfo, *views.Problem, error) {
	var (
		wg      sync.WaitGroup
		project *neonapi.Project
		projErr error
	)
	wg.Go(func() { project, projErr = h.Neon.GetProject(ctx, s.projectID) })
	ins, insErr := h.Neon.ListIntegrations(ctx, s.projectID)
	wg.Wait()

	info := integrationInfo{projectName: s.projectID}
	if projErr != nil {
		if errors.Is(projErr, neonapi.ErrNotFound) {
			return info, nil, projErr
		}
		p := h.panelProblem(projErr, "Could not read the project")
		return info, &p, nil
	}
	info.projectName = project.Name
	if insErr != nil {
		p := h.panelProblem(insErr, "Could not list the Neon Auth integrations")
		return info, &p, nil
	}
	for _, in := range ins {
		if s.provider == "" && (in.AuthProvider == neonapi.AuthProviderStack || in.AuthProvider == neonapi.AuthProviderBetterAuth) {
			s.provider = in.AuthProvider
		}
		if in.AuthProvider == s.provider {
			info.integration = in
			return info, nil, nil
		}
	}
	p := views.Problem{
		Title:   "No Neon Auth integration",
		Message: fmt.Sprintf("Project %s has no %s integration. Enable Neon Auth on the project page first.", s.projectID, views.ProviderLabel(string(s.provider))),
		Status:  http.StatusNotFound,
	}
	if s.provider == "" {
		p.Message = fmt.Sprintf("Project %s has no Neon Auth integration. Enable Neon Auth on the project page first.", s.projectID)
	}
	return info, &p, nil
}

// dbProblem explains a failure to read an integration's users table, with what
// to check. It never shows raw driver text, which may name the role.
func (h *Handler) dbProblem(err error, dbName string) views.Problem {
	target, source := dbName, SourceNeon
	var dbErr *UserDBError
	if errors.As(err, &dbErr) {
		target, source = dbErr.Target, dbErr.Source
		if dbErr.DBName != "" {
			dbName = dbErr.DBName
		}
	}
	hostPort, database, ok := strings.Cut(target, "/")
	if !ok {
		hostPort, database = "", target
	}
	if database == "" {
		database = dbName
	}
	where := database
	if hostPort != "" {
		where = database + " on host " + hostPort
	}
	via := ""
	if source != SourceNeon {
		via = fmt.Sprintf(" The dashboard reads this project's users through the %s: check that it points at the integration's database.", source)
	}
	var apiErr *neonapi.APIError
	switch {
	case errors.Is(err, db.ErrSchemaMissing):
		return views.Problem{
			Title:   "No Neon Auth users table",
			Message: fmt.Sprintf("The neon_auth schema (users_sync or \"user\") does not exist in %s — is Neon Auth enabled for this branch/database?%s", where, via),
		}
	case errors.Is(err, db.ErrUnreachable):
		h.logger().Warn("users database unreachable", "target", target, "source", source, "err", err)
		return views.Problem{
			Title:   "Database unreachable",
			Message: fmt.Sprintf("Could not connect to %s. Check that the branch's compute is running and reachable from the dashboard.%s", where, via),
		}
	case errors.Is(err, db.ErrBadConnString):
		return views.Problem{
			Title:   "Invalid connection string",
			Message: fmt.Sprintf("The %s is not a connection string the dashboard can use.", source),
		}
	case errors.Is(err, ErrNoIntegration):
		return views.Problem{Title: "No Neon Auth integration", Message: "The project no longer has this integration."}
	case errors.Is(err, context.DeadlineExceeded):
		return views.Problem{
			Title:   "Database timed out",
			Message: fmt.Sprintf("%s did not answer in time. A suspended compute may be waking up: check again in a moment.", where),
		}
	case errors.As(err, &apiErr):
		p := neonProblem(apiErr)
		p.Title = "Neon did not give a connection to the database: " + p.Title
		return p
	}
	p, expected := problemFor(err)
	if !expected {
		h.logger().Error("read users table", "target", target, "err", err)
		p.Title = "Could not read the users table"
	}
	return p
}

// userRow is the view of a db.User.
func userRow(u db.User) views.UserRow {
	return views.UserRow{
		ID:        u.ID,
		Email:     u.Email,
		Name:      u.Name,
		CreatedAt: u.CreatedAt,
		UpdatedAt: u.UpdatedAt,
		DeletedAt: u.DeletedAt,
		Role:      u.Role,
	}
}

// usersPageData is the full users page and the status to answer it with.
type usersPageData struct {
	page   views.UsersPage
	status int
}

// buildUsersPage loads the header, the latest users and the counts. Database
// failures land in the panels; only an unknown project is an error.
func (h *Handler) buildUsersPage(c echo.Context, s *usersScope, query string) (*usersPageData, error) {
	ctx := c.Request().Context()
	info, problem, err := h.loadIntegration(ctx, s)
	if err != nil {
		return nil, err
	}
	id := IdentityFrom(c)
	d := &usersPageData{status: http.StatusOK}
	p := &d.page
	p.Chrome = h.chrome(c, "Users · "+info.projectName,
		views.Crumb{Label: "Projects", Href: "/projects"},
		views.Crumb{Label: info.projectName, Href: "/projects/" + s.projectID},
		views.Crumb{Label: "Users"},
	)
	p.Header = views.UsersHeader{
		ProjectID:   s.projectID,
		ProjectName: info.projectName,
		Provider:    string(s.provider),
		BranchID:    info.integration.BranchID,
		DBName:      info.integration.DBName,
	}
	if problem != nil {
		p.Problem = problem
		d.status = problem.Status
		if d.status == 0 {
			d.status = http.StatusBadGateway
		}
		return d, nil
	}
	p.Create = views.CreateUserForm{
		ProjectID: s.projectID,
		Provider:  string(s.provider),
		CSRFToken: CSRFToken(c),
		CanWrite:  id.CanWrite(),
	}
	p.Lookup = views.UserLookup{ProjectID: s.projectID, Provider: string(s.provider), Query: query}
	p.Latest = views.LatestUsers{ProjectID: s.projectID, Provider: string(s.provider), Limit: h.latestLimit(), CanWrite: id.CanWrite(), CSRFToken: CSRFToken(c)}

	dctx, cancel := context.WithTimeout(ctx, dbPanelTimeout)
	defer cancel()
	dir, err := h.Users.Open(dctx, UserTarget{
		ProjectID: s.projectID,
		Provider:  s.provider,
		BranchID:  info.integration.BranchID,
		DBName:    info.integration.DBName,
	})
	if err != nil {
		prob := h.dbProblem(err, info.integration.DBName)
		p.Latest.Problem = &prob
		if query != "" {
			p.Lookup.Searched, p.Lookup.Problem = true, &prob
		}
		var dbErr *UserDBError
		if errors.As(err, &dbErr) {
			p.Header.Database = dbErr.Target
		}
		return d, nil
	}
	table := dir.Generation().Table()
	p.Header.Database, p.Header.Table = dir.Target(), table
	p.Latest.Table, p.Lookup.Table = table, table

	p.Header.Counts = countUsers(dctx, dir)
	if users, err := dir.Latest(dctx, p.Latest.Limit); err != nil {
		prob := h.dbProblem(err, info.integration.DBName)
		p.Latest.Problem = &prob
	} else {
		p.Latest.Rows = make([]views.UserRow, len(users))
		for i, u := range users {
			p.Latest.Rows[i] = userRow(u)
		}
	}
	if query != "" {
		h.lookupInto(dctx, dir, &p.Lookup, info.integration.DBName)
	}
	return d, nil
}

// countUsers reads the table's size; a failure leaves the counts unknown,
// since the panels beside them already say what is wrong.
func countUsers(ctx context.Context, dir UserDirectory) views.UserCounts {
	total, deleted, err := dir.Count(ctx)
	if err != nil {
		return views.UserCounts{}
	}
	return views.UserCounts{Known: true, Total: total, Deleted: deleted}
}

// lookupInto runs the "check sync" query for l.Query.
func (h *Handler) lookupInto(ctx context.Context, dir UserDirectory, l *views.UserLookup, dbName string) {
	l.Query = strings.TrimSpace(l.Query)
	l.Searched = true
	if l.Query == "" || utf8.RuneCountInString(l.Query) > 256 {
		l.QueryError = "Enter an email address or a user id (at most 256 characters)."
		return
	}
	u, err := dir.Find(ctx, l.Query)
	switch {
	case err == nil:
		row := userRow(u)
		l.Row = &row
	case errors.Is(err, db.ErrNotFound):
	default:
		prob := h.dbProblem(err, dbName)
		l.Problem = &prob
	}
}

// usersPage serves GET /projects/:id/users.
func (h *Handler) usersPage(c echo.Context) error {
	s, err := parseUsersScope(c, false)
	if err != nil {
		return err
	}
	d, err := h.buildUsersPage(c, &s, c.QueryParam("q"))
	if err != nil {
		return err
	}
	return h.render(c, d.status, views.UsersPageView(d.page))
}

// usersLookup serves GET /projects/:id/users/lookup: the "check sync" box
// alone for htmx, the whole page otherwise.
func (h *Handler) usersLookup(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return h.usersPage(c)
	}
	l := views.UserLookup{ProjectID: s.projectID, Provider: string(s.provider), Query: c.QueryParam("q")}
	ctx, cancel := context.WithTimeout(c.Request().Context(), dbPanelTimeout)
	defer cancel()
	dir, err := h.Users.Open(ctx, s.target())
	if err != nil {
		prob := h.dbProblem(err, "")
		l.Searched, l.Problem = true, &prob
		return h.render(c, http.StatusOK, views.UserLookupSection(l))
	}
	l.Table = dir.Generation().Table()
	h.lookupInto(ctx, dir, &l, "")
	status := http.StatusOK
	if l.QueryError != "" {
		status = http.StatusUnprocessableEntity
	}
	return h.render(c, status, views.UserLookupSection(l))
}

// latestUsers serves GET /projects/:id/users/latest, the refreshable table,
// with the header's counts swapped out of band.
func (h *Handler) latestUsers(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, views.UsersURL(s.projectID, string(s.provider)))
	}
	l := views.LatestUsers{ProjectID: s.projectID, Provider: string(s.provider), Limit: h.latestLimit(), CanWrite: IdentityFrom(c).CanWrite(),
		CSRFToken: CSRFToken(c), Counts: &views.UserCounts{}}
	ctx, cancel := context.WithTimeout(c.Request().Context(), dbPanelTimeout)
	defer cancel()
	dir, err := h.Users.Open(ctx, s.target())
	if err == nil {
		l.Table = dir.Generation().Table()
		*l.Counts = countUsers(ctx, dir)
		var users []db.User
		if users, err = dir.Latest(ctx, l.Limit); err == nil {
			l.Rows = make([]views.UserRow, len(users))
			for i, u := range users {
				l.Rows[i] = userRow(u)
			}
		}
	}
	if err != nil {
		prob := h.dbProblem(err, "")
		l.Problem = &prob
	}
	return h.render(c, http.StatusOK, views.LatestUsersFragment(l))
}

// requireWrite refuses mutations to people whose role can only look.
func requireWrite(c echo.Context) error {
	if !IdentityFrom(c).CanWrite() {
		return echo.NewHTTPError(http.StatusForbidden, "Your role can only look; ask an admin.")
	}
	return nil
}

// createUser serves POST /projects/:id/users: it validates the form, creates
// the user through Neon (project-level for stack, on the integration's branch
// for better_auth) and starts the live sync check.
func (h *Handler) createUser(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	if err := requireWrite(c); err != nil {
		return err
	}
	f := views.CreateUserForm{
		ProjectID: s.projectID,
		Provider:  string(s.provider),
		CSRFToken: CSRFToken(c),
		CanWrite:  true,
		Email:     c.FormValue("email"),
		Name:      c.FormValue("name"),
	}
	if !validateCreateUser(&f) {
		return h.renderCreateForm(c, s, f, http.StatusUnprocessableEntity)
	}
	ctx := c.Request().Context()
	var created *neonapi.CreatedUser
	if s.provider == neonapi.AuthProviderStack {
		created, err = h.Neon.CreateUser(ctx, neonapi.CreateUserRequest{
			ProjectID:    s.projectID,
			AuthProvider: s.provider,
			Email:        f.Email,
			Name:         f.Name,
		})
	} else {
		var branchID string
		if branchID, err = h.integrationBranch(ctx, s); err == nil {
			created, err = h.Neon.CreateBranchUser(ctx, s.projectID, branchID, neonapi.CreateBranchUserRequest{Email: f.Email, Name: f.Name})
		}
	}
	if err != nil {
		p := h.panelProblem(err, "Could not create the user")
		f.Problem = &p
		return h.renderCreateForm(c, s, f, p.Status)
	}
	since := time.Now()
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Created user %s (%s); watching for it in the database.", created.ID, f.Email))
		check := views.SyncCheck{ProjectID: s.projectID, Provider: string(s.provider), UserID: created.ID, Watch: views.WatchCreate, Since: since.UnixMilli()}
		return c.Redirect(http.StatusSeeOther, views.SyncPageURL(check))
	}
	check := h.pendingCheck(s, created.ID, views.WatchCreate, since)
	fresh := views.CreateUserForm{ProjectID: s.projectID, Provider: string(s.provider), CSRFToken: CSRFToken(c), CanWrite: true, Check: &check}
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

// integrationBranch returns the branch of the project's integration for s.provider.
func (h *Handler) integrationBranch(ctx context.Context, s usersScope) (string, error) {
	ins, err := h.Neon.ListIntegrations(ctx, s.projectID)
	if err != nil {
		return "", err
	}
	for _, in := range ins {
		if in.AuthProvider == s.provider {
			return in.BranchID, nil
		}
	}
	return "", fmt.Errorf("project %s: %w", s.projectID, ErrNoIntegration)
}

// deleteUserForm serves GET /projects/:id/users/:uid/delete, the confirmation step.
func (h *Handler) deleteUserForm(c echo.Context) error {
	s, f, err := deleteUserRequest(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), dbPanelTimeout)
	defer cancel()
	if dir, err := h.Users.Open(ctx, s.target()); err == nil {
		if u, err := dir.Get(ctx, f.UserID); err == nil {
			f.Email = u.Email
		}
	}
	return h.renderActivity(c, s, views.UserActivity{Delete: &f}, http.StatusOK)
}

// deleteUser serves POST /projects/:id/users/:uid/delete: with the
// confirmation ticked it deletes the user through Neon and starts watching
// the database for the deletion.
func (h *Handler) deleteUser(c echo.Context) error {
	s, f, err := deleteUserRequest(c)
	if err != nil {
		return err
	}
	uid := f.UserID
	if c.FormValue("confirm") != "yes" {
		f.ConfirmError = "Tick the box to confirm the deletion."
		return h.renderActivity(c, s, views.UserActivity{Delete: &f}, http.StatusUnprocessableEntity)
	}
	ctx := c.Request().Context()
	if s.provider == neonapi.AuthProviderStack {
		err = h.Neon.DeleteUser(ctx, s.projectID, uid)
	} else {
		var branchID string
		if branchID, err = h.integrationBranch(ctx, s); err == nil {
			err = h.Neon.DeleteBranchUser(ctx, s.projectID, branchID, uid)
		}
	}
	if err != nil {
		p := h.panelProblem(err, "Could not delete the user")
		f.Problem = &p
		return h.renderActivity(c, s, views.UserActivity{Delete: &f}, p.Status)
	}
	since := time.Now()
	check := h.pendingCheck(s, uid, views.WatchDelete, since)
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Deleted user %s; watching the database for the deletion.", uid))
		return c.Redirect(http.StatusSeeOther, views.SyncPageURL(check))
	}
	return h.render(c, http.StatusOK, views.UserActivityView(views.UserActivity{Check: &check}))
}

// renderActivity answers with the activity slot's content to htmx, or the whole
// page with it filled in otherwise.
func (h *Handler) renderActivity(c echo.Context, s usersScope, a views.UserActivity, status int) error {
	if isHTMX(c) {
		return h.render(c, status, views.UserActivityView(a))
	}
	d, err := h.buildUsersPage(c, &s, "")
	if err != nil {
		return err
	}
	d.page.Activity = &a
	if d.page.Problem != nil {
		status = d.status
	}
	return h.render(c, status, views.UsersPageView(d.page))
}

// deleteUserRequest reads the route of a user deletion, refuses people whose
// role can only look, and returns the pristine confirmation form.
func deleteUserRequest(c echo.Context) (usersScope, views.DeleteUserForm, error) {
	s, uid, err := parseUserRoute(c)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return s, views.DeleteUserForm{}, err
	}
	return s, views.DeleteUserForm{ProjectID: s.projectID, Provider: string(s.provider), UserID: uid, CSRFToken: CSRFToken(c)}, nil
}

// parseUserRoute reads the scope and :uid of a route about one user.
func parseUserRoute(c echo.Context) (usersScope, string, error) {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return s, "", err
	}
	uid := c.Param("uid")
	if c.Request().URL.RawPath != "" {
		// Echo matched the escaped path, so its parameters are still escaped:
		// an id with a ',' or '/' arrives as %2C or %2F.
		if uid, err = url.PathUnescape(uid); err != nil {
			uid = ""
		}
	}
	if !validUserID(uid) {
		return s, "", echo.NewHTTPError(http.StatusNotFound, "That is not a user id.")
	}
	return s, uid, nil
}

// Role names are what Better Auth's admin plugin and access-control roles
// look like: lowercase, starting with a letter, short. The control offers
// user and admin; other names pass too, so a custom role the table already
// holds can be kept, and are checked here because Neon's API only insists on
// one role or more. Better Auth stores several roles comma-separated, so a
// comma-separated list is accepted and sent as that many roles.
var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// maxRoles bounds a role list; real users hold one or two.
const maxRoles = 8

// parseRoles validates a submitted role value and returns its roles, in
// order and without repeats, or a message for the field.
func parseRoles(v string) ([]string, string) {
	if strings.TrimSpace(v) == "" {
		return nil, "Choose a role."
	}
	var roles []string
	for part := range strings.SplitSeq(v, ",") {
		r := strings.TrimSpace(part)
		if !roleName.MatchString(r) {
			return nil, "A role is a lowercase name such as user or admin (a letter, then up to 31 letters, digits, - or _); separate several with commas."
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) > maxRoles {
		return nil, fmt.Sprintf("At most %d roles at once.", maxRoles)
	}
	return roles, ""
}

// setUserRole serves POST /projects/:id/users/:uid/role: it sets a Better
// Auth user's role through Neon (updateNeonAuthUserRole, on the
// integration's branch) and watches the database until the role column
// shows it. Stack Auth has no roles in Neon's API, so the route refuses it.
func (h *Handler) setUserRole(c echo.Context) error {
	s, uid, err := parseUserRoute(c)
	if err != nil {
		return err
	}
	if err := requireWrite(c); err != nil {
		return err
	}
	if s.provider != neonapi.AuthProviderBetterAuth {
		return echo.NewHTTPError(http.StatusBadRequest, "Roles can be set only for Better Auth (branch-level) users.")
	}
	f := views.RoleForm{
		ProjectID: s.projectID,
		Provider:  string(s.provider),
		UserID:    uid,
		CSRFToken: CSRFToken(c),
		Role:      c.FormValue("role"),
	}
	f.Current, f.Email = h.currentRole(c.Request().Context(), s, uid)
	roles, msg := parseRoles(f.Role)
	if msg != "" {
		f.RoleError = msg
		return h.renderRoleForm(c, s, f, http.StatusUnprocessableEntity)
	}
	ctx := c.Request().Context()
	branchID, err := h.integrationBranch(ctx, s)
	if err == nil {
		_, err = h.Neon.UpdateBranchUserRole(ctx, s.projectID, branchID, uid, roles)
	}
	if err != nil {
		p := h.panelProblem(err, "Could not change the role")
		f.Problem = &p
		return h.renderRoleForm(c, s, f, p.Status)
	}
	// The role column holds the roles as the sandbox and Better Auth write
	// them: comma-separated, in the order sent.
	check := h.pendingCheck(s, uid, views.WatchRole, time.Now())
	check.Role = strings.Join(roles, ",")
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Role change to %s sent for user %s; watching the database for it.", check.Role, uid))
		return c.Redirect(http.StatusSeeOther, views.SyncPageURL(check))
	}
	f.Role = check.Role
	return h.render(c, http.StatusOK, views.RoleChangeSent(f, check))
}

// currentRole reads the user's role and email as the table holds them, so a
// refused form still shows the truth; a failed read leaves them empty.
func (h *Handler) currentRole(ctx context.Context, s usersScope, uid string) (role, email string) {
	ctx, cancel := context.WithTimeout(ctx, dbPanelTimeout)
	defer cancel()
	dir, err := h.Users.Open(ctx, s.target())
	if err != nil {
		return "", ""
	}
	u, err := dir.Get(ctx, uid)
	if err != nil {
		return "", ""
	}
	return u.Role, u.Email
}

// renderRoleForm answers a role change that did not go through: the control
// alone to htmx, which swaps it in place, or the whole page with the control
// in the activity slot, what was chosen kept.
func (h *Handler) renderRoleForm(c echo.Context, s usersScope, f views.RoleForm, status int) error {
	if isHTMX(c) {
		return h.render(c, status, views.RoleFormView(f))
	}
	return h.renderActivity(c, s, views.UserActivity{Role: &f}, status)
}
