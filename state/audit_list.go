package state

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditFilter selects entries of the audit trail. Empty fields match every
// entry.
type AuditFilter struct {
	// Actor is the person, as the entries name them.
	Actor string
	// Action is one action (user.delete).
	Action string
	// Project, Branch and User match those exactly; User is the user id
	// the route named.
	Project string
	Branch  string
	User    string
	// Target is text anywhere in the target (an email, a provider, a role).
	Target string
	// Since and Until bound the time: Since <= at < Until.
	Since, Until time.Time
	// Before pages to older entries (seq < Before), After to newer ones
	// (seq > After); at most one is set.
	Before, After int64
	// Limit is the page size (default 50, at most 500).
	Limit int
}

// AuditPage is one page of entries, newest first.
type AuditPage struct {
	Entries []AuditEntry
	// HasOlder and HasNewer say whether entries match past each end of the
	// page.
	HasOlder, HasNewer bool
}

// Page sizes of ListAudit.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
)

// where is the filter as SQL conditions and their arguments, without the
// paging cursor.
func (f AuditFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Project != "" {
		add("project = ?", f.Project)
	}
	if f.Branch != "" {
		add("branch = ?", f.Branch)
	}
	if f.User != "" {
		add("target_user = ?", f.User)
	}
	if f.Target != "" {
		add(`target ILIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(f.Target)+"%")
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until)
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListAudit returns one page of the entries f matches, newest first, paged
// by sequence number (keyset), so a page costs the same however deep it is.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditPage
	}
	limit = min(limit, MaxAuditPage)
	where, args := f.where()
	order := "DESC"
	switch {
	case f.After > 0:
		args = append(args, f.After)
		where += " AND seq > $" + strconv.Itoa(len(args))
		order = "ASC"
	case f.Before > 0:
		args = append(args, f.Before)
		where += " AND seq < $" + strconv.Itoa(len(args))
	}
	args = append(args, limit+1)
	q := `SELECT ` + auditColumns + ` FROM ` + Schema + `.audit_entries WHERE ` + where +
		` ORDER BY seq ` + order + ` LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("state: audit: list: %w", err)
	}
	defer rows.Close()
	var page AuditPage
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return AuditPage{}, fmt.Errorf("state: audit: list: %w", err)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("state: audit: list: %w", err)
	}
	more := len(page.Entries) > limit
	if more {
		page.Entries = page.Entries[:limit]
	}
	if order == "ASC" {
		slices.Reverse(page.Entries)
		page.HasNewer, page.HasOlder = more, true
	} else {
		page.HasOlder, page.HasNewer = more, f.Before > 0
	}
	return page, nil
}

// exportChunk is how many entries EachAudit reads per query (a variable
// so that tests can cross chunks with a few entries).
var exportChunk = MaxAuditPage

// EachAudit calls fn for every entry f matches, newest first (the paging
// fields and Limit are ignored): an export streams without holding the
// trail in memory. It reads the entries in keyset chunks, each query done
// before fn sees its entries, so that a slow download holds none of the
// pool's few connections, which every change needs for its audit entry.
// Entries appended meanwhile are not included. An error from fn stops the
// walk and is returned.
func (s *Store) EachAudit(ctx context.Context, f AuditFilter, fn func(AuditEntry) error) error {
	f.After, f.Before, f.Limit = 0, 0, exportChunk
	for {
		page, err := s.ListAudit(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		if !page.HasOlder || len(page.Entries) == 0 {
			return nil
		}
		f.Before = page.Entries[len(page.Entries)-1].Seq
	}
}
