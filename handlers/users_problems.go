package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// dbWhere names the database a failure is about, for a sentence: "neondb on
// host h:5432", and the way the dashboard reached it.
func dbWhere(err error, dbName string) (where, target, source string) {
	target, source = dbName, neonauth.SourceNeon
	var dbErr *neonauth.UserDBError
	if errors.As(err, &dbErr) {
		target, source = dbErr.Target, cmp.Or(dbErr.Source, source)
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
	where = cmp.Or(database, "the users database")
	if hostPort != "" {
		where += " on host " + hostPort
	}
	return where, target, source
}

// dbProblem explains a failure to read an integration's users table, with what
// to check. It never shows raw driver text, which may name the role. Its
// status is what an htmx fragment about the table answers with: 503 while
// the database cannot be used.
func (h *Handler) dbProblem(err error, dbName string) views.Problem {
	where, target, source := dbWhere(err, dbName)
	via := ""
	if source != neonauth.SourceNeon {
		via = fmt.Sprintf(" The dashboard reads this project's users through the %s: check that it points at the integration's database.", source)
	}
	var apiErr *neonauth.APIError
	switch {
	case errors.Is(err, neonauth.ErrPeopleOverride):
		return views.Problem{
			Title:   "Changes refused: a shared database override",
			Message: fmt.Sprintf("The dashboard reaches this branch's users through the %s, which every branch of the project shares, so a ban or a revocation meant for this branch could land in another branch's database. Nothing was changed. Make the change with the override removed (the dashboard then asks Neon for each branch's own database), or in the database itself.", source),
			Status:  http.StatusConflict,
		}
	case errors.Is(err, neonauth.ErrSchemaMissing):
		return views.Problem{
			Title:   "No Neon Auth users table",
			Message: fmt.Sprintf("The neon_auth schema (users_sync or \"user\") does not exist in %s — is Neon Auth enabled for this branch/database?%s", where, via),
			Status:  http.StatusServiceUnavailable,
		}
	case errors.Is(err, neonauth.ErrUnreachable):
		h.logger().Warn("users database unreachable", "target", target, "source", source, "err", err)
		return views.Problem{
			Title:   "Database unreachable",
			Message: fmt.Sprintf("Could not connect to %s. Check that the branch's compute is running and reachable from the dashboard.%s", where, via),
			Status:  http.StatusServiceUnavailable,
		}
	case errors.Is(err, neonauth.ErrBadConnString):
		return views.Problem{
			Title:   "Invalid connection string",
			Message: fmt.Sprintf("The %s is not a connection string the dashboard can use.", source),
			Status:  http.StatusServiceUnavailable,
		}
	case errors.Is(err, neonauth.ErrNoIntegration):
		return views.Problem{Title: "No Neon Auth integration", Message: "The project no longer has this integration.", Status: http.StatusNotFound}
	case errors.Is(err, context.DeadlineExceeded):
		return views.Problem{
			Title:   "Database timed out",
			Message: fmt.Sprintf("%s did not answer in time. A suspended compute may be waking up: check again in a moment.", where),
			Status:  http.StatusServiceUnavailable,
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
