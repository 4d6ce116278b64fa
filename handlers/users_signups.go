package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// signupRangeDays is how many days each chart range covers.
var signupRangeDays = map[string]int{"30d": 30, "90d": 90, "365d": 365}

// showSignups serves the signups chart panel (a full page without htmx).
// The series is cached per range by the db layer for neonauth.DefaultResultTTL.
// Ranges end at the next UTC midnight, so every request on the same day
// asks for the same range and the cache answers.
func (h *Handler) showSignups(c echo.Context) error {
	ref, s, err := panelRef(c)
	if err != nil {
		return err
	}
	p := views.SignupsPanel{Ref: ref, Range: c.QueryParam("range"), Bucket: c.QueryParam("bucket"), CacheTTL: neonauth.DefaultResultTTL.String()}
	if p.Range == "" {
		p.Range = "30d"
	}
	if p.Bucket == "" {
		p.Bucket = string(neonauth.BucketDay)
	}
	days, ok := signupRangeDays[p.Range]
	if !ok {
		p.RangeError = "Choose a range: " + joinRanges() + "."
		p.Range = ""
	}
	if p.Bucket != string(neonauth.BucketDay) && p.Bucket != string(neonauth.BucketWeek) {
		p.BucketError = "Choose day or week."
		p.Bucket = ""
	}
	if p.RangeError != "" || p.BucketError != "" {
		return h.renderSignups(c, http.StatusBadRequest, p)
	}
	now := time.Now().UTC()
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -days)
	err = h.withBrowser(neonauth.WithSlowLane(c.Request().Context()), s.ref(), dbPanelTimeout, func(ctx context.Context, b neonauth.UserBrowser) error {
		pts, err := b.Signups(ctx, from, to, neonauth.Bucket(p.Bucket))
		if err != nil {
			return err
		}
		p.Deletions = b.Provider().SoftDeletes()
		for _, pt := range pts {
			p.Points = append(p.Points, views.SignupsPoint{Start: pt.Start, Signups: pt.Signups, Deletions: pt.Deletions})
			p.TotalSignups += pt.Signups
			p.TotalDeletions += pt.Deletions
		}
		return nil
	})
	if err != nil {
		prob := h.panelProblem(err, "Could not count the signups")
		p.Problem = &prob
		return h.renderSignups(c, cmpStatus(prob.Status, http.StatusBadGateway), p)
	}
	return h.renderSignups(c, http.StatusOK, p)
}

func joinRanges() string {
	rs := views.SignupRanges
	return strings.Join(rs[:len(rs)-1], ", ") + " or " + rs[len(rs)-1]
}

func (h *Handler) renderSignups(c echo.Context, status int, p views.SignupsPanel) error {
	if isHTMX(c) {
		return h.render(c, status, views.Signups(p))
	}
	ch := h.chrome(c, "Signups · "+p.Ref.ProjectID,
		views.Crumb{Label: "Projects", Href: "/projects"},
		views.Crumb{Label: p.Ref.ProjectID, Href: "/projects/" + p.Ref.ProjectID},
		views.Crumb{Label: "Users", Href: usersHref(p.Ref)},
		views.Crumb{Label: "Signups"},
	)
	return h.render(c, status, views.SignupsPage(ch, p))
}
