package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// exportContentTypes are the media types of the export formats.
var exportContentTypes = map[neonauth.ExportFormat]string{
	neonauth.ExportCSV:       "text/csv; charset=utf-8",
	neonauth.ExportJSONLines: "application/jsonl; charset=utf-8",
}

// exportWriter sends the export's headers with its first byte, so a failure
// before any row still gets a proper error page, and counts what it sent.
type exportWriter struct {
	res     *echo.Response
	started bool
}

func (w *exportWriter) start() {
	if !w.started {
		w.started = true
		w.res.WriteHeader(http.StatusOK)
	}
}

func (w *exportWriter) Write(p []byte) (int, error) {
	w.start()
	return w.res.Write(p)
}

// exportUsers serves GET /projects/:id/users/export: every user the browse
// filter matches, streamed from the database as CSV or JSON lines. Its audit
// line says which filter and how many rows left.
func (h *Handler) exportUsers(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	q := readBrowseQuery(c)
	format := neonauth.ExportFormat(c.QueryParam("format"))
	f := browseFilter(q)
	identity.AddAuditAttrs(c, slog.String("filter", browseValues(q).Encode()), slog.String("format", string(format)))
	ctx, cancel := context.WithTimeout(neonauth.WithExportLane(c.Request().Context()), dbPanelTimeout)
	br, err := h.Auth.OpenBrowser(ctx, s.ref())
	cancel()
	if err != nil {
		return h.exportRefusal(err)
	}
	if _, err := br.ExportQuery(f, format); err != nil {
		return h.exportRefusal(err)
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, exportContentTypes[format])
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q",
		fmt.Sprintf("users-%s-%s-%s.%s", s.projectID, s.provider, time.Now().UTC().Format("20060102-150405"), format)))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set(echo.HeaderCacheControl, "no-store")
	if isHead(c) {
		// The headers say what a GET would send; reading every row to
		// count bytes nobody receives would be an export in all but name.
		identity.AddAuditAttrs(c, slog.Bool("headers_only", true))
		return c.NoContent(http.StatusOK)
	}
	w := &exportWriter{res: c.Response()}
	rows, err := br.Export(c.Request().Context(), w, f, format)
	identity.AddAuditAttrs(c, slog.Int64("rows", rows))
	switch {
	case err != nil && !w.started:
		return h.exportRefusal(err)
	case err != nil:
		// The rows already sent cannot be taken back: the download is cut
		// off without its end, so no client takes it for complete, and the
		// error's log line and the audit line say how many rows left.
		identity.AddAuditAttrs(c, slog.Bool("incomplete", true))
		cutResponse(c)
		return fmt.Errorf("users export of project %s cut short after %d rows: %w", s.projectID, rows, err)
	}
	w.start()
	return nil
}

// exportRefusal is the error page of an export that sent nothing.
func (h *Handler) exportRefusal(err error) error {
	var in *neonauth.InputError
	if errors.As(err, &in) {
		return echo.NewHTTPError(http.StatusBadRequest, in.Field+" "+in.Reason+".")
	}
	if _, _, ok := overloadProblem(err); ok {
		return err // the error handler adds its Retry-After
	}
	prob := h.dbProblem(err, "")
	return echo.NewHTTPError(prob.Status, prob.Title+": "+prob.Message)
}
