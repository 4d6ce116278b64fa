package db

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// nastyStrings are values that break naive quoting or escaping.
var nastyStrings = []string{
	"", "plain", "it's", "''", `\`, `\\`, `\'`, `'\`, `E'x'`, `\x41`, "%_", `\%\_`,
	"line\nbreak", "tab\tand\rreturn", "\x01\x02\x1f", `"quoted", comma`, `\.`, "emoji 🎉 ✓ ü",
	"'); DROP TABLE neon_auth.users_sync; --", strings.Repeat(`a'\`, 3000),
}

// TestQuoteLiteralRoundTrip has the server read back every literal, with
// standard_conforming_strings on and off: the E” form must mean the same
// under both.
func TestQuoteLiteralRoundTrip(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, scs := range []string{"on", "off"} {
		if _, err := conn.Exec(ctx, "SET standard_conforming_strings = "+scs); err != nil {
			t.Fatal(err)
		}
		for _, s := range nastyStrings {
			lit, err := quoteLiteral(s)
			if err != nil {
				t.Fatalf("quoteLiteral(%q): %v", s, err)
			}
			var got string
			if err := conn.QueryRow(ctx, "SELECT "+lit, pgx.QueryExecModeExec).Scan(&got); err != nil {
				t.Fatalf("scs=%s: SELECT %s: %v", scs, lit, err)
			}
			if got != s {
				t.Errorf("scs=%s: %q read back as %q", scs, s, got)
			}
		}
	}
}

func TestQuoteLiteralRefusesUnstorableText(t *testing.T) {
	for _, s := range []string{"a\x00b", "\x00", "bad \xff utf8"} {
		if _, err := quoteLiteral(s); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("quoteLiteral(%q) = %v, want ErrInvalidInput", s, err)
		}
	}
}

// TestLikeContains checks on the server that the pattern matches its text
// literally, pattern characters included, and nothing else.
func TestLikeContains(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, c := range []struct {
		needle, hay string
		want        bool
	}{
		{"50%", "get 50% off", true},
		{"50%", "get 500 off", false},
		{"a_b", "xa_by", true},
		{"a_b", "xacby", false},
		{`\`, `back\slash`, true},
		{`\`, `backslash`, false},
		{`\%`, `lit\%eral`, true},
		{`\%`, `lit%eral`, false},
		{"ALICE", "alice@example.com", true},
		{"ü", "MÜLLER", true},
	} {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT $1::text ILIKE $2::text", c.hay, likeContains(c.needle)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%q ILIKE likeContains(%q) = %v, want %v", c.hay, c.needle, got, c.want)
		}
	}
}
