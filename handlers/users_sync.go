package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// The live sync check polls with a delay that grows with the time already
// waited: a quarter of it, between minPollDelay and maxPollDelay. A fast sync
// (Neon's usually lands well under a second) is therefore seen within about
// 100 ms of arriving, the overshoot stays within a quarter of the real sync
// time, and a stuck sync costs only one small query every two seconds.
const (
	minPollDelay = 100 * time.Millisecond
	maxPollDelay = 2 * time.Second
)

// NextPollDelay is how long a pending sync check waits before asking again,
// given how long it has waited so far.
func NextPollDelay(elapsed time.Duration) time.Duration {
	return min(max(elapsed/4, minPollDelay), maxPollDelay)
}

func (h *Handler) syncTimeout() time.Duration {
	if h.Settings.SyncTimeout > 0 {
		return h.Settings.SyncTimeout
	}
	return neonauth.DefaultSyncTimeout
}

// pendingCheck is the sync panel right after Neon accepted a change.
func (h *Handler) pendingCheck(s usersScope, uid string, watch views.SyncWatch, since time.Time) views.SyncCheck {
	return views.SyncCheck{
		ProjectID: s.projectID,
		Provider:  s.provider,
		BranchID:  s.branchID,
		UserID:    uid,
		Watch:     watch,
		Since:     since.UnixMilli(),
		State:     views.SyncPending,
		Timeout:   h.syncTimeout(),
		NextPoll:  NextPollDelay(0),
	}
}

// syncCheck looks once at the user's row and says where the check stands. It
// runs one query by primary key and no Neon API call (the database was
// resolved when the page loaded and stays cached). role is the value a
// WatchRole check waits for.
func (h *Handler) syncCheck(ctx context.Context, s usersScope, uid string, watch views.SyncWatch, role string, since time.Time) views.SyncCheck {
	check := h.pendingCheck(s, uid, watch, since)
	check.Role = role
	now := time.Now()
	check.Elapsed = max(now.Sub(since), 0)

	var u neonauth.User
	err := h.readUsers(ctx, s.ref(), func(ctx context.Context, dir neonauth.UserDirectory) error {
		check.Database, check.Table = dir.Target(), dir.Provider().Table()
		var err error
		u, err = dir.Get(ctx, uid)
		return err
	})
	var dbErr *neonauth.UserDBError
	if errors.As(err, &dbErr) {
		check.Database = dbErr.Target
	}
	switch {
	case err == nil:
		row := userRow(u)
		check.Row = &row
		switch watch {
		case views.WatchCreate:
			check.State = views.SyncSynced
		case views.WatchDelete:
			if u.DeletedAt != nil {
				check.State = views.SyncSynced
			}
		case views.WatchRole:
			if u.Role == role {
				check.State = views.SyncSynced
			}
		}
	case errors.Is(err, neonauth.ErrUserNotFound):
		if watch == views.WatchDelete {
			check.State = views.SyncGone
		}
	default:
		// Keep polling: a compute waking up or a blip in the network clears
		// on its own, and the panel says what is wrong meanwhile.
		p := h.dbProblem(err, "")
		check.Problem = &p
	}
	if check.State == views.SyncPending {
		if check.Elapsed >= check.Timeout {
			check.State = views.SyncTimedOut
		} else {
			check.NextPoll = NextPollDelay(check.Elapsed)
		}
	}
	return check
}

// observeSyncCheck reports a concluded check's duration to the metrics. A
// check that gave up counts as lasting its timeout: a browser that asks again
// long after must not stretch the record.
func (h *Handler) observeSyncCheck(check views.SyncCheck) {
	if h.SyncMetrics == nil || !check.Done() {
		return
	}
	d := check.Elapsed
	if check.State == views.SyncTimedOut {
		d = check.Timeout
	}
	h.SyncMetrics.ObserveSyncCheck(d)
}

// userSync serves GET /projects/:id/users/:uid/sync (the polled fragment) and
// GET /projects/:id/users/:uid (the same check as a full page, for browsers
// without htmx, whose "check again" link reloads it).
func (h *Handler) userSync(c echo.Context) error {
	s, uid, err := parseUserRoute(c)
	if err != nil {
		return err
	}
	watch := views.WatchCreate
	var role string
	switch c.QueryParam("watch") {
	case "", string(views.WatchCreate):
	case string(views.WatchDelete):
		watch = views.WatchDelete
	case string(views.WatchRole):
		watch = views.WatchRole
		roles, msg := parseRoles(c.QueryParam("role"))
		if msg != "" {
			return echo.NewHTTPError(http.StatusBadRequest, "role: "+msg)
		}
		role = strings.Join(roles, ",")
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "watch must be create, delete or role.")
	}
	now := time.Now()
	since := now
	if v := c.QueryParam("since"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms <= 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "since must be a Unix time in milliseconds.")
		}
		// A clock from the future would make the check wait forever.
		since = time.UnixMilli(min(ms, now.UnixMilli()))
	}
	check := h.syncCheck(c.Request().Context(), s, uid, watch, role, since)
	h.observeSyncCheck(check)
	landed := check.State == views.SyncSynced || check.State == views.SyncGone
	if landed {
		// Counts and charts cached before the change no longer hold.
		h.Auth.UsersChanged(c.Request().Context(), s.ref())
	}
	if isHTMX(c) {
		if landed {
			// The users table, its counts and the chart now differ from
			// the database; each reloads itself on this one event.
			c.Response().Header().Set("HX-Trigger", views.UsersChangedEvent)
		}
		return h.render(c, http.StatusOK, views.SyncPanel(check))
	}
	d, err := h.buildUsersPage(c, &s, "")
	if err != nil {
		return err
	}
	if watch == views.WatchCreate {
		d.page.Create.Check = &check
	} else {
		d.page.Activity = &views.UserActivity{Check: &check}
	}
	return h.render(c, d.status, views.UsersPageView(d.page))
}
