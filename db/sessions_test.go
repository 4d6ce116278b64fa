package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// sessionToken is the token of every seeded session: no value the sessions
// view returns may contain it.
const sessionToken = "tok-SECRET-7f3c9a"

// sessionFixture is a Better Auth database with three users.
func sessionFixture(t *testing.T) (*fixture, *UserBrowser) {
	t.Helper()
	f := newFixture(t, authprovider.BetterAuth)
	for _, k := range []string{"alice", "bob", "carol"} {
		f.insert(t, seedUser{key: k, email: k + "@example.com", name: strings.ToUpper(k[:1]) + k[1:], created: t0})
	}
	return f, f.browser(t, nil)
}

// seedSessions stores n sessions of user key, created three to a second
// from start so the id tie-break matters; ip, ua and impersonatedBy are
// SQL expressions over i.
func seedSessions(t *testing.T, f *fixture, key string, n int, start time.Time, expires time.Duration, ip, ua, imp string) {
	t.Helper()
	f.exec(t, fmt.Sprintf(`INSERT INTO neon_auth.session (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "impersonatedBy")
SELECT gen_random_uuid(), now() + $4::interval, $5 || '-' || gen_random_uuid(), $2::timestamptz + (i / 3) * interval '1 second',
       $2::timestamptz + (i / 3) * interval '1 second' + interval '1 hour', %s, %s, $1::uuid, %s
  FROM generate_series(1, $3::int) i`, ip, ua, imp), f.id(key), start, n, fmt.Sprintf("%d seconds", int(expires.Seconds())), sessionToken)
}

// sessionIDs returns the ids where selects, in the view's order, by a
// statement written apart from the browser's.
func sessionIDs(t *testing.T, f *fixture, where string, args ...any) []string {
	t.Helper()
	rows, err := f.conn.Query(context.Background(), `SELECT s.id::text FROM neon_auth.session s WHERE `+where+` ORDER BY s."createdAt" DESC, s.id DESC`, args...)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func sessionRowIDs(ss []Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func TestBrowseSessionsKeysetBothWays(t *testing.T) {
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 130, t0, time.Hour, `'10.0.0.' || i`, `'Mozilla/5.0'`, `NULL`)
	seedSessions(t, f, "bob", 100, t0, time.Hour, `'10.0.1.' || i`, `'curl/8'`, `NULL`)
	ctx := context.Background()
	want := sessionIDs(t, f, `s."expiresAt" > now()`)
	if len(want) != 230 {
		t.Fatalf("seeded %d sessions", len(want))
	}

	var forward []string
	req := SessionPageRequest{}
	for pages := 0; ; pages++ {
		p, err := b.BrowseSessions(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Sessions) > 50 || pages > 10 {
			t.Fatalf("page of %d sessions, %d pages", len(p.Sessions), pages)
		}
		forward = append(forward, sessionRowIDs(p.Sessions)...)
		if p.Next == "" {
			break
		}
		req = SessionPageRequest{After: p.Next}
	}
	if !slices.Equal(forward, want) {
		t.Fatalf("forward walk gave %d ids, differing from the reference order", len(forward))
	}

	var backward [][]string
	req = SessionPageRequest{Last: true}
	for pages := 0; ; pages++ {
		p, err := b.BrowseSessions(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if pages > 10 {
			t.Fatal("backward walk does not end")
		}
		backward = append([][]string{sessionRowIDs(p.Sessions)}, backward...)
		if p.Prev == "" {
			break
		}
		req = SessionPageRequest{Before: p.Prev}
	}
	if got := slices.Concat(backward...); !slices.Equal(got, want) {
		t.Fatalf("backward walk gave %d ids, differing from the reference order", len(got))
	}
	if len(backward[0]) != 30 {
		t.Errorf("walking back, the first page holds %d sessions, want the 30 left over", len(backward[0]))
	}

	// A users page's cursor names no place among sessions.
	users, err := b.Browse(ctx, PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.BrowseSessions(ctx, SessionPageRequest{After: b.Cursor(users.Users[0])}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("a users cursor: %v, want an input error", err)
	}
}

func TestSessionFilters(t *testing.T) {
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 6, t0, time.Hour, `'10.0.0.' || i`, `'Mozilla/5.0 (Macintosh) Chrome/120'`, `NULL`)
	seedSessions(t, f, "bob", 4, t0.Add(time.Hour), time.Hour, `'2001:db8::' || i`, `'curl/8.4'`, `CASE WHEN i % 2 = 0 THEN '`+f.id("carol")+`' END`)
	seedSessions(t, f, "carol", 3, t0.Add(48*time.Hour), -time.Hour, `'10.1.0.' || i`, `'100%_literal'`, `NULL`)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		filter SessionFilter
		where  string
		args   []any
	}{
		{"active only by default", SessionFilter{}, `s."expiresAt" > now()`, nil},
		{"include expired", SessionFilter{IncludeExpired: true}, `true`, nil},
		{"user id", SessionFilter{User: strings.ToUpper(f.id("bob"))}, `s."userId" = $1 AND s."expiresAt" > now()`, []any{f.id("bob")}},
		{"user email typed in capitals", SessionFilter{User: " Alice@Example.com "}, `s."userId" = $1`, []any{f.id("alice")}},
		{"exact ip", SessionFilter{IP: "10.0.0.3"}, `s."ipAddress" = '10.0.0.3'`, nil},
		{"ipv4 prefix", SessionFilter{IP: "10.", IncludeExpired: true}, `s."ipAddress" LIKE '10.%'`, nil},
		{"ipv4 prefix is not a substring", SessionFilter{IP: "0.0.", IncludeExpired: true}, `false`, nil},
		{"ipv6 prefix", SessionFilter{IP: "2001:DB8:"}, `s."ipAddress" LIKE '2001:db8:%'`, nil},
		{"user agent substring ignores case", SessionFilter{UserAgent: "chrome"}, `s."userAgent" LIKE '%Chrome%'`, nil},
		{"user agent % matches itself", SessionFilter{UserAgent: "0%_l", IncludeExpired: true}, `s."userId" = $1`, []any{f.id("carol")}},
		{"impersonated", SessionFilter{Impersonated: true}, `s."impersonatedBy" IS NOT NULL`, nil},
		{"created from", SessionFilter{CreatedFrom: t0.Add(time.Hour), IncludeExpired: true}, `s."createdAt" >= $1`, []any{t0.Add(time.Hour)}},
		{"created before", SessionFilter{CreatedBefore: t0.Add(time.Hour)}, `s."createdAt" < $1`, []any{t0.Add(time.Hour)}},
		{"combined", SessionFilter{IP: "2001:db8:", Impersonated: true, UserAgent: "CURL"}, `s."userId" = $1 AND s."impersonatedBy" IS NOT NULL`, []any{f.id("bob")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := sessionIDs(t, f, c.where, c.args...)
			p, err := b.BrowseSessions(ctx, SessionPageRequest{Filter: c.filter})
			if err != nil {
				t.Fatal(err)
			}
			if got := sessionRowIDs(p.Sessions); !slices.Equal(got, want) {
				t.Errorf("got %d sessions %v, want %d %v", len(got), got, len(want), want)
			}
			n, err := b.CountMatchingSessions(ctx, c.filter)
			if err != nil || n != int64(len(want)) {
				t.Errorf("CountMatchingSessions = %d, %v; want %d", n, err, len(want))
			}
		})
	}
	// Rows carry the user and the facts the view shows.
	p, err := b.BrowseSessions(ctx, SessionPageRequest{Filter: SessionFilter{User: f.id("carol"), IncludeExpired: true}})
	if err != nil || len(p.Sessions) != 3 {
		t.Fatalf("carol's sessions: %d, %v", len(p.Sessions), err)
	}
	s := p.Sessions[0]
	if s.UserEmail != "carol@example.com" || s.UserName != "Carol" || !s.Expired || s.UserAgent != "100%_literal" || !s.LastActiveAt.After(s.CreatedAt) {
		t.Errorf("carol's session = %+v", s)
	}
}

func TestSessionsNeverSelectTheToken(t *testing.T) {
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 5, t0, time.Hour, `'10.0.0.1'`, `'ua'`, `NULL`)
	ctx := context.Background()
	p, err := b.BrowseSessions(ctx, SessionPageRequest{Filter: SessionFilter{IncludeExpired: true}})
	if err != nil || len(p.Sessions) != 5 {
		t.Fatalf("browse: %d, %v", len(p.Sessions), err)
	}
	if dump := fmt.Sprintf("%#v", p); strings.Contains(dump, sessionToken) {
		t.Errorf("a returned session holds the token: %s", dump)
	}
	sql, _, err := b.SessionsSQL(SessionFilter{}, 50, p.Next)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sql, "token") || strings.Contains(sql, "*") || strings.Contains(sql, "row_to_json") {
		t.Errorf("the sessions statement may read the token:\n%s", sql)
	}
}

func TestSessionFilterRefusesBadInput(t *testing.T) {
	_, b := sessionFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		req   SessionPageRequest
		field string
	}{
		{"nul in user agent", SessionPageRequest{Filter: SessionFilter{UserAgent: "a\x00b"}}, "ua"},
		{"10 KB user agent", SessionPageRequest{Filter: SessionFilter{UserAgent: strings.Repeat("a", 10<<10)}}, "ua"},
		{"user neither id nor email", SessionPageRequest{Filter: SessionFilter{User: "not-a-uuid"}}, "user"},
		{"10 KB user", SessionPageRequest{Filter: SessionFilter{User: strings.Repeat("a", 10<<10) + "@x"}}, "user"},
		{"ip with letters", SessionPageRequest{Filter: SessionFilter{IP: "10.0.0.1; DROP"}}, "ip"},
		{"dates the wrong way round", SessionPageRequest{Filter: SessionFilter{CreatedFrom: t0, CreatedBefore: t0.Add(-time.Hour)}}, "to"},
		{"size", SessionPageRequest{Size: 7}, "size"},
		{"cursor", SessionPageRequest{After: "s!!"}, "cursor"},
		{"two cursors", SessionPageRequest{After: "x", Last: true}, "cursor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.BrowseSessions(ctx, c.req)
			var in *InputError
			if !errors.As(err, &in) || in.Field != c.field {
				t.Errorf("err = %v, want an input error for %s", err, c.field)
			}
		})
	}
	if err := b.RevokeSession(ctx, "nope"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("RevokeSession(nope) = %v", err)
	}
	if _, err := b.RevokeUserSessions(ctx, "x\x00"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("RevokeUserSessions(NUL) = %v", err)
	}
}

func TestRevokeSessions(t *testing.T) {
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 3, t0, time.Hour, `'10.0.0.1'`, `'ua'`, `NULL`)
	seedSessions(t, f, "bob", 2, t0, -time.Hour, `'10.0.0.2'`, `'ua'`, `NULL`)
	seedSessions(t, f, "carol", 2, t0, time.Hour, `'10.0.0.3'`, `'ua'`, `NULL`)
	ctx := context.Background()
	one := sessionIDs(t, f, `s."userId" = $1`, f.id("alice"))[0]
	if err := b.RevokeSession(ctx, one); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeSession(ctx, one); !errors.Is(err, ErrSessionNotFound) {
		t.Errorf("revoking it again = %v, want ErrSessionNotFound", err)
	}
	if got := len(sessionIDs(t, f, `s."userId" = $1`, f.id("alice"))); got != 2 {
		t.Errorf("alice has %d sessions after one was revoked, want 2", got)
	}
	// A user's sessions go, expired ones too; nobody else's.
	n, err := b.RevokeUserSessions(ctx, f.id("bob"))
	if err != nil || n != 2 {
		t.Errorf("RevokeUserSessions(bob) = %d, %v; want 2", n, err)
	}
	if got := len(sessionIDs(t, f, `true`)); got != 4 {
		t.Errorf("%d sessions left, want alice's 2 and carol's 2", got)
	}
}

func TestRevokeMatchingInBatches(t *testing.T) {
	// Ids are read 700 at a time here, so batches cross chunks.
	defer func(n int) { revokeChunk = n }(revokeChunk)
	revokeChunk = 700
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 2500, t0, time.Hour, `'10.9.' || (i % 250) || '.1'`, `'Bot/1.0'`, `NULL`)
	seedSessions(t, f, "bob", 40, t0, time.Hour, `'10.9.0.1'`, `'Mozilla/5.0'`, `NULL`)
	ctx := context.Background()
	filter := SessionFilter{IP: "10.9.", UserAgent: "bot"}
	n, err := b.CountMatchingSessions(ctx, filter)
	if err != nil || n != 2500 {
		t.Fatalf("CountMatchingSessions = %d, %v", n, err)
	}
	var steps []int64
	revoked, err := b.RevokeMatchingSessions(ctx, filter, func(n int64) { steps = append(steps, n) })
	if err != nil || revoked != 2500 {
		t.Fatalf("RevokeMatchingSessions = %d, %v", revoked, err)
	}
	if want := []int64{700, 1400, 2100, 2500}; !slices.Equal(steps, want) {
		t.Errorf("progress = %v, want %v", steps, want)
	}
	if left := sessionIDs(t, f, `true`); len(left) != 40 {
		t.Errorf("%d sessions left, want bob's 40", len(left))
	}
	if left := sessionIDs(t, f, `s."userId" = $1`, f.id("bob")); len(left) != 40 {
		t.Errorf("bob has %d sessions, want 40", len(left))
	}
}

func TestRevokeMatchingStopsWhenCancelled(t *testing.T) {
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 2500, t0, time.Hour, `'10.0.0.1'`, `'ua'`, `NULL`)
	ctx, cancel := context.WithCancel(context.Background())
	revoked, err := b.RevokeMatchingSessions(ctx, SessionFilter{}, func(int64) { cancel() })
	if !errors.Is(err, context.Canceled) || revoked != RevokeBatch {
		t.Errorf("RevokeMatchingSessions = %d, %v; want %d and context.Canceled", revoked, err, RevokeBatch)
	}
	if left := sessionIDs(t, f, `true`); len(left) != 2500-RevokeBatch {
		t.Errorf("%d sessions left, want %d", len(left), 2500-RevokeBatch)
	}
}

func TestCountSessionsEstimatesLargeTables(t *testing.T) {
	f, b := sessionFixture(t)
	seedSessions(t, f, "alice", 600, t0, time.Hour, `'10.0.0.1'`, `'ua'`, `NULL`)
	ctx := context.Background()
	n, err := b.CountSessions(ctx, SessionFilter{}, false)
	if err != nil || !n.Exact || n.N != 600 {
		t.Errorf("small table: %+v, %v; want exactly 600", n, err)
	}
	f.exec(t, `ANALYZE neon_auth.session`)
	b.largeTable = 100
	n, err = b.CountSessions(ctx, SessionFilter{}, false)
	if err != nil || n.Exact || n.N < 300 || n.N > 1200 {
		t.Errorf("large table: %+v, %v; want an estimate near 600", n, err)
	}
	n, err = b.CountSessions(ctx, SessionFilter{IP: "10.0.0.1"}, false)
	if err != nil || n.Exact || n.N < 300 || n.N > 1200 {
		t.Errorf("large table, filtered: %+v, %v; want an estimate near 600", n, err)
	}
	n, err = b.CountSessions(ctx, SessionFilter{}, true)
	if err != nil || !n.Exact || n.N != 600 {
		t.Errorf("exact on request: %+v, %v; want exactly 600", n, err)
	}
}
