package handlers

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
)

// auditExportColumns are the columns of an audit export, in order; JSON
// lines use the same names.
var auditExportColumns = []string{"seq", "time", "actor", "role", "action", "method", "route", "project", "branch",
	"target", "target_user", "outcome", "status", "neon_status", "neon_request_id", "request_id", "peer", "reason",
	"details", "replica", "prev_hash", "hash"}

// auditExportContentTypes are the media types of the export formats.
var auditExportContentTypes = map[string]string{
	"csv":   "text/csv; charset=utf-8",
	"jsonl": "application/jsonl; charset=utf-8",
}

// exportAudit serves GET /audit/export: every entry the filter matches,
// newest first, streamed as CSV or JSON lines. Its own audit entry says
// which filter and how many rows left.
func (h *Handler) exportAudit(c echo.Context) error {
	format := c.QueryParam("format")
	if _, ok := auditExportContentTypes[format]; !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "format must be csv or jsonl.")
	}
	form, f, errs := readAuditFilter(c)
	if len(errs) > 0 {
		for _, field := range []string{"actor", "action", "project", "branch", "user", "target", "since", "until", "cursor"} {
			if msg := errs[field]; msg != "" {
				return echo.NewHTTPError(http.StatusBadRequest, field+": "+msg)
			}
		}
	}
	if h.Audit == nil {
		return echo.NewHTTPError(http.StatusNotFound, "The audit trail needs STATE_DATABASE_URL; without it audit lines go to AUDIT_LOG only.")
	}
	identity.AddAuditAttrs(c, slog.String("filter", form.Query().Encode()), slog.String("format", format))
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, auditExportContentTypes[format])
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", "audit-"+time.Now().UTC().Format("20060102-150405")+"."+format))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set(echo.HeaderCacheControl, "no-store")
	if isHead(c) {
		identity.AddAuditAttrs(c, slog.Bool("headers_only", true))
		return c.NoContent(http.StatusOK)
	}
	w := &exportWriter{res: c.Response()}
	buf := bufio.NewWriterSize(w, 32<<10)
	write := auditJSONLine(buf)
	if format == "csv" {
		cw := csv.NewWriter(buf)
		_ = cw.Write(auditExportColumns)
		write = func(e identity.AuditEntry) error {
			if err := cw.Write(auditCSVRecord(e)); err != nil {
				return err
			}
			cw.Flush()
			return cw.Error()
		}
	}
	var rows int64
	err := h.Audit.EachAudit(c.Request().Context(), f, func(e identity.AuditEntry) error {
		if err := write(e); err != nil {
			return err
		}
		rows++
		return nil
	})
	if err == nil {
		err = buf.Flush()
	}
	identity.AddAuditAttrs(c, slog.Int64("rows", rows))
	switch {
	case err != nil && !w.started:
		h.logger().Error("audit trail: export failed", "err", err, "request_id", requestID(c))
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Could not read the audit trail: the state database (STATE_DATABASE_URL) did not answer.")
	case err != nil:
		// Rows already sent cannot be taken back: the download ends
		// without its end, so no client takes it for complete.
		identity.AddAuditAttrs(c, slog.Bool("incomplete", true))
		cutResponse(c)
		return fmt.Errorf("audit export cut short after %d rows: %w", rows, err)
	}
	w.start()
	return nil
}

// auditJSONLine writes an entry as one JSON object per line.
func auditJSONLine(w *bufio.Writer) func(identity.AuditEntry) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(e identity.AuditEntry) error {
		details := e.Details
		if details == nil {
			details = map[string]any{}
		}
		return enc.Encode(map[string]any{
			"seq": e.Seq, "time": e.At.UTC().Format(time.RFC3339Nano), "actor": e.Actor, "role": e.Role, "action": e.Action,
			"method": e.Method, "route": e.Route, "project": e.Project, "branch": e.Branch, "target": e.Target,
			"target_user": e.TargetUser, "outcome": e.Outcome, "status": e.Status, "neon_status": e.NeonStatus,
			"neon_request_id": e.NeonRequestID, "request_id": e.RequestID, "peer": e.Peer, "reason": e.Reason,
			"details": details, "replica": e.Replica, "prev_hash": e.PrevHash, "hash": e.Hash,
		})
	}
}

// auditCSVRecord is an entry as a CSV record. Text a spreadsheet would take
// for a formula gets a leading ', as in the users export; details are JSON.
func auditCSVRecord(e identity.AuditEntry) []string {
	neon := ""
	if e.NeonStatus != nil {
		neon = strconv.Itoa(*e.NeonStatus)
	}
	details := "{}"
	if len(e.Details) > 0 {
		if b, err := json.Marshal(e.Details); err == nil {
			details = string(b)
		}
	}
	rec := []string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Role, e.Action,
		e.Method, e.Route, e.Project, e.Branch, e.Target, e.TargetUser, e.Outcome, strconv.Itoa(e.Status), neon,
		e.NeonRequestID, e.RequestID, e.Peer, e.Reason, details, e.Replica, e.PrevHash, e.Hash}
	for i, v := range rec {
		if i > 1 && v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			rec[i] = "'" + v
		}
	}
	return rec
}
