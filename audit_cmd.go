package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/state"
)

// runAudit runs `dashboard audit verify`: it walks the audit trail in
// STATE_DATABASE_URL and checks its hash chain. It prints
// "audit chain verified: N entries (from seq A to B)" and returns nil when the
// chain is intact; otherwise its error names the first altered or removed
// entry, and the process exits 1.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dashboard audit verify\n\nChecks the hash chain of the audit trail in STATE_DATABASE_URL: exit 0 when intact, 1 naming the first altered or removed entry.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "verify" {
		fs.Usage()
		return errors.New("audit: want `dashboard audit verify`")
	}
	url := strings.TrimSpace(os.Getenv("STATE_DATABASE_URL"))
	if url == "" {
		return errors.New("audit verify: STATE_DATABASE_URL is not set: without a state store there is no audit trail to verify (lines go to AUDIT_LOG only)")
	}
	if !validPostgresURL(url) {
		return errors.New("audit verify: STATE_DATABASE_URL is not a valid Postgres connection string")
	}
	// Verifying reads: a database without the trail is named as such, and
	// the store is opened without migrating it.
	if err := auditTrailExists(ctx, url); err != nil {
		return err
	}
	st, err := state.Open(ctx, url, state.Options{MaxConns: 2, Replica: "audit-verify", ReadOnly: true})
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	defer st.Close()
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if v.Broken != nil {
		return v.Broken
	}
	line := fmt.Sprintf("audit chain verified: %d entries (from seq %d to %d)", v.Entries, v.From, v.To)
	if v.AnchorSeq > 0 {
		line += fmt.Sprintf("; entries up to seq %d were pruned by retention", v.AnchorSeq)
	}
	_, err = fmt.Fprintln(stdout, line)
	return err
}

// auditTrailExists checks that the database at url holds an audit trail.
func auditTrailExists(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("audit verify: connect to STATE_DATABASE_URL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, state.Schema+".audit_entries").Scan(&exists); err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if !exists {
		return fmt.Errorf("audit verify: this database has no audit trail (no table %s.audit_entries): is STATE_DATABASE_URL the dashboard's state store?", state.Schema)
	}
	return nil
}

// defaultAuditRetention is how long the audit trail keeps entries unless
// AUDIT_RETENTION says otherwise: a year.
const defaultAuditRetention = 365 * 24 * time.Hour

// parseAuditRetention reads AUDIT_RETENTION: days ("365d"), a Go duration
// ("720h"), or 0 to keep entries forever; empty is the default, a year.
func parseAuditRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	bad := fmt.Errorf("AUDIT_RETENTION %q is not a retention: give days such as 365d, a duration such as 720h, or 0 to keep entries forever", v)
	switch {
	case v == "":
		return defaultAuditRetention, nil
	case v == "0":
		return 0, nil
	case strings.HasSuffix(v, "d"):
		var days int
		if _, err := fmt.Sscanf(v, "%dd", &days); err != nil || days < 1 || days > 36500 || fmt.Sprintf("%dd", days) != v {
			return 0, bad
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Hour {
		return 0, bad
	}
	return d, nil
}
