package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// Refresher forgets what the dashboard read from Neon about a project, so
// that its pages read it again. *neonauth.Service is one.
type Refresher interface {
	RefreshProject(projectID string)
}

var _ Refresher = (*neonauth.Service)(nil)

// maxReturnTo bounds the return_to field of a refresh: the pages that post
// it have short addresses.
const maxReturnTo = 2 << 10

// refreshedFlash confirms a refresh on the page it returns to.
const refreshedFlash = "Reloaded from Neon."

// refreshProject serves "Refresh from Neon": the pages that read Neon Auth
// settings read them through the read cache, which keeps them until the
// dashboard itself changes them, so a change made elsewhere (the Neon
// Console) shows only once the project's cached reads are forgotten. It
// sends nothing to Neon; the page it returns to (return_to, a page of the
// same project, else the project page) reads again.
func (h *Handler) refreshProject(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	r, ok := h.Auth.(Refresher)
	if !ok {
		// Wiring, not the person's doing: main's service always refreshes.
		h.logger().Error("refresh from Neon: the Neon Auth service has no RefreshProject", "service", fmt.Sprintf("%T", h.Auth))
		p := views.Problem{
			Title:   "Refresh from Neon is not available",
			Message: "This dashboard cannot reload from Neon: its Neon Auth service has nothing to refresh. Reload the page instead.",
			Status:  http.StatusNotImplemented,
		}
		return h.render(c, p.Status, views.ErrorPage(h.chrome(c, "Refresh from Neon"), p))
	}
	r.RefreshProject(projectID)
	h.addFlash(c, FlashSuccess, refreshedFlash)
	return redirect(c, returnTo(projectID, c.FormValue("return_to")))
}

// returnTo is where a refresh of projectID goes back to: v when it is a
// path of this site below the project's own pages, else the project page.
// Anything that could lead elsewhere, or that a browser could read
// differently than this check does, is refused: another host (`//`, a
// scheme, a backslash), another project (dot segments, encoded or not),
// control characters and anything but printable ASCII, and values longer
// than maxReturnTo.
func returnTo(projectID, v string) string {
	project := views.ProjectURL(projectID)
	if !safeReturnTo(project+"/", v) {
		return project
	}
	return v
}

// safeReturnTo reports whether v is a same-site path starting with prefix
// (which ends in "/").
func safeReturnTo(prefix, v string) bool {
	if len(v) > maxReturnTo || !strings.HasPrefix(v, prefix) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return false
		}
	}
	if strings.Contains(v, "//") {
		return false
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return false
	}
	// The path as the browser resolves it: decoded, it must still be below
	// the prefix, with nothing that steps out of it.
	p := u.Path
	if !strings.HasPrefix(p, prefix) || strings.Contains(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
