package db

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ExportFormat is the file format of an export.
type ExportFormat string

const (
	// ExportCSV writes RFC 4180 CSV with a header row; NULL is an empty
	// unquoted field, the empty string a quoted one (""). A text value a
	// spreadsheet would take for a formula (one starting with =, +, -, @, a
	// tab or a carriage return) is written with a leading ', as OWASP's CSV
	// injection advice says, so opening the file runs nothing; the value is
	// otherwise unchanged.
	ExportCSV ExportFormat = "csv"
	// ExportJSONLines writes one JSON object per line.
	ExportJSONLines ExportFormat = "jsonl"
)

// exportKind says how a column's values are written, so that both formats
// write each value the same way whatever the server's settings.
type exportKind int

const (
	exportText exportKind = iota
	// exportBool is written true or false: a JSON boolean in JSON lines,
	// and the same words in CSV, where COPY would write t and f.
	exportBool
	// exportTime is written in RFC 3339 in UTC with microseconds
	// (2026-01-02T03:04:05.123456Z), which DateStyle and TimeZone do not
	// change; an infinite time is written infinity or -infinity.
	exportTime
	// notExported marks a column a UserRow holds but exports leave out.
	notExported
)

// exportSQL returns the select-list entry writing c in format.
func (c userCol) exportSQL(format ExportFormat) string {
	expr := c.export
	if expr == "" {
		expr = c.sel
	}
	switch {
	case c.kind == exportTime:
		expr = fmt.Sprintf(`coalesce(to_char(%[1]s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), %[1]s::text)`, expr)
	case c.kind == exportBool && format == ExportCSV:
		expr = "(" + expr + ")::text"
	case c.kind == exportText && format == ExportCSV:
		// End users choose their own names and emails; admins open the file
		// in a spreadsheet. JSON lines are data for programs and stay exact.
		expr = fmt.Sprintf(`CASE WHEN (%[1]s)::text ~ '^[=+@\t\r-]' THEN '''' || (%[1]s)::text ELSE (%[1]s)::text END`, expr)
	}
	return expr + " AS " + c.name
}

// ExportQuery returns the SELECT an export of f runs, with f's values
// inlined as quoted literals: COPY takes no bind parameters. Rows come in
// browse order. Its columns are the exported ones of the table's column
// list (stackColumns, betterAuthColumns), in its order. A NULL column is
// written as NULL (an empty CSV field, JSON null); times and booleans as
// exportTime and exportBool say.
func (b *UserBrowser) ExportQuery(f Filter, format ExportFormat) (string, error) {
	if err := b.check("export users"); err != nil {
		return "", err
	}
	f, err := f.normalize(b.gen)
	if err != nil {
		return "", err
	}
	if format != ExportCSV && format != ExportJSONLines {
		return "", inputErr("format", "must be csv or jsonl")
	}
	var cols []string
	for _, c := range b.spec.cols {
		if c.kind != notExported {
			cols = append(cols, c.exportSQL(format))
		}
	}
	a := sqlArgs{literal: true}
	q := fmt.Sprintf("SELECT %s FROM %s u%s ORDER BY %s",
		strings.Join(cols, ", "), b.spec.table, b.whereClause(&a, f), b.spec.orderBy("u.", segAll, true))
	if a.err != nil {
		return "", a.err
	}
	if format == ExportJSONLines {
		return "SELECT row_to_json(x)::text FROM (" + q + ") x", nil
	}
	return q, nil
}

// ExportOptions returns the COPY options of format. JSON lines are written
// through CSV mode with a quote and a delimiter that JSON text never holds
// unescaped (row_to_json escapes every control character), so each line is
// exactly the JSON text: text mode would double its backslashes.
func ExportOptions(format ExportFormat) string {
	if format == ExportJSONLines {
		return "FORMAT csv, QUOTE '\x01', DELIMITER '\x02'"
	}
	return "FORMAT csv, HEADER"
}

// Export writes the users f selects to w in format and returns how many
// rows it wrote. Postgres streams the rows with COPY ... TO STDOUT and
// they pass straight to w, so memory use does not grow with the table.
func (b *UserBrowser) Export(ctx context.Context, w io.Writer, f Filter, format ExportFormat) (int64, error) {
	const op = "export users"
	q, err := b.ExportQuery(f, format)
	if err != nil {
		return 0, err
	}
	tx, err := b.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, wrapErr(op, b.target, err)
	}
	// A read-only transaction has nothing to undo: Rollback after Commit is
	// a no-op, and on an earlier error the COPY's own error is the one to report.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Postgres sends each row of a COPY TO as one message, which CopyTo
	// writes with one call: counting the calls counts the rows sent, which
	// is what an export cut short must report.
	cw := &rowCounter{w: w}
	if format == ExportCSV {
		cw.header = 1
	}
	tag, err := tx.Conn().PgConn().CopyTo(ctx, cw, "COPY ("+q+") TO STDOUT WITH ("+ExportOptions(format)+")")
	if err != nil {
		return cw.rows(), wrapErr(op, b.target, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return tag.RowsAffected(), wrapErr(op, b.target, err)
	}
	return tag.RowsAffected(), nil
}

// rowCounter counts the rows COPY wrote through it.
type rowCounter struct {
	w      io.Writer
	writes int64
	// header is how many of the first writes are a header line.
	header int64
}

func (c *rowCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err == nil {
		c.writes++
	}
	return n, err
}

func (c *rowCounter) rows() int64 { return max(c.writes-c.header, 0) }
