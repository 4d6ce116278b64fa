package db

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// seedMany stores n users, three to a signup second so the id tie-break
// matters, every tenth soft-deleted where the generation allows it, plus
// (users_sync only) undated users whose raw_json lacks signed_up_at_millis.
func seedMany(t testing.TB, f *fixture, n, undated int) {
	t.Helper()
	switch f.gen {
	case authprovider.Stack:
		f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json, updated_at, deleted_at)
SELECT jsonb_build_object('id', 'user_' || lpad(i::text, 5, '0'), 'display_name', 'Person ' || i,
         'primary_email', 'p' || i || '@example.com', 'primary_email_verified', i % 2 = 0,
         'signed_up_at_millis', $1::bigint + (i / 3) * 1000, 'last_active_at_millis', $1::bigint + i * 1000),
       $2::timestamptz, CASE WHEN i % 10 = 0 THEN $2::timestamptz + (i || ' seconds')::interval END
  FROM generate_series(1, $3::int) i`, t0.UnixMilli(), t0, n)
		f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json)
SELECT jsonb_build_object('id', 'undated_' || i, 'display_name', 'Undated ' || i, 'primary_email', 'u' || i || '@example.com')
  FROM generate_series(1, $1::int) i`, undated)
	case authprovider.BetterAuth:
		f.exec(t, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", "createdAt", "updatedAt", role, banned)
SELECT md5(i::text)::uuid, 'Person ' || i, 'p' || i || '@example.com', i % 2 = 0,
       $1::timestamptz + (i / 3) * interval '1 second', $1::timestamptz,
       CASE WHEN i % 7 = 0 THEN 'admin,user' WHEN i % 5 = 0 THEN 'admin' END,
       CASE WHEN i % 11 = 0 THEN true END
  FROM generate_series(1, $2::int) i`, t0, n)
	}
}

// referenceIDs returns the ids where selects, in browse order, by a
// statement written independently of the browser's.
func referenceIDs(t testing.TB, f *fixture, where string, args ...any) []string {
	t.Helper()
	s := specs[f.gen]
	sql := "SELECT id::text FROM " + s.table
	if where != "" {
		sql += " WHERE " + where
	}
	rows, err := f.conn.Query(context.Background(), sql+" ORDER BY "+s.created+" DESC NULLS LAST, id DESC", args...)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// browser opens a browser on f; form, when not nil, fixes which query form
// it uses instead of asking the catalog.
func (f *fixture) browser(t testing.TB, form *queryForm) *UserBrowser {
	t.Helper()
	b, err := OpenUserBrowser(context.Background(), f.pool(t), nil)
	if err != nil {
		t.Fatalf("OpenUserBrowser: %v", err)
	}
	if form != nil {
		b.indexed = &form.indexed
		if form.window > 0 {
			b.searchWindow = form.window
		}
	}
	return b
}

// queryForm is one way a browser reads pages: one scan per page, or
// segmented statements served by an index, whose search window may be
// smaller than a page so that search pages mix window and scan reads.
type queryForm struct {
	name    string
	indexed bool
	window  int
}

// queryForms lists the forms every browse test runs under; all must see
// the same rows.
var queryForms = []*queryForm{{"scan", false, 0}, {"segmented", true, 0}, {"segmented, window 7", true, 7}}

func rowIDs(rows []UserRow) []string {
	out := make([]string, len(rows))
	for i, u := range rows {
		out[i] = u.ID
	}
	return out
}

// walkForward follows Next from the page req asks for and returns every id
// seen, checking each page's size and links on the way.
func walkForward(t testing.TB, b *UserBrowser, req PageRequest) []string {
	t.Helper()
	var all []string
	for i := 0; ; i++ {
		p, err := b.Browse(context.Background(), req)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if p.Next != "" && len(p.Users) != p.Size {
			t.Fatalf("page %d has %d rows and a next page", i, len(p.Users))
		}
		if i > 0 && len(p.Users) > 0 && p.Prev == "" {
			t.Fatalf("page %d has no previous-page cursor", i)
		}
		all = append(all, rowIDs(p.Users)...)
		if p.Next == "" {
			return all
		}
		if i > 1000 {
			t.Fatal("walk does not end")
		}
		req.After, req.At = p.Next, time.Time{}
	}
}

// walkBackward follows Prev from the last page and returns every id seen,
// in browse order, checking each page's size and links on the way. Only the
// first page, where the walk ends, may be short; pages never overlap, so a
// row shown twice shows in the result twice.
func walkBackward(t testing.TB, b *UserBrowser, req PageRequest) []string {
	t.Helper()
	req.Last = true
	var pages [][]string
	for i := 0; ; i++ {
		p, err := b.Browse(context.Background(), req)
		if err != nil {
			t.Fatalf("page -%d: %v", i, err)
		}
		if len(p.Users) != p.Size && p.Prev != "" {
			t.Fatalf("page -%d has %d rows and a previous page", i, len(p.Users))
		}
		if i > 0 && len(p.Users) > 0 && p.Next == "" {
			t.Fatalf("page -%d has no next-page cursor", i)
		}
		pages = append(pages, rowIDs(p.Users))
		if p.Prev == "" {
			break
		}
		if i > 1000 {
			t.Fatal("walk does not end")
		}
		req.Last, req.Before = false, p.Prev
	}
	slices.Reverse(pages)
	return slices.Concat(pages...)
}

// sameIDs reports the first difference between two id lists.
func sameIDs(t testing.TB, what string, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Errorf("%s: %d ids, want %d; first difference at %d: got %v, want %v",
				what, len(got), len(want), i, got[i:min(i+3, len(got))], want[i:min(i+3, len(want))])
			return
		}
	}
}

func wantInputError(t testing.TB, err error, field string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("err = %v, want an InputError on %s", err, field)
	}
	if ie.Field != field {
		t.Fatalf("InputError on %q (%s), want %q", ie.Field, ie.Reason, field)
	}
	if len(err.Error()) > 300 {
		t.Errorf("error text is %d bytes; it must not echo the input", len(err.Error()))
	}
}
