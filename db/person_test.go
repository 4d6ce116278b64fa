package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// Secret values seeded into the person tables; none may reach a struct.
const (
	secretToken    = "sess-token-5ecret-0001"
	secretPassword = "$argon2id$hash-5ecret-0002"
	secretAccess   = "access-5ecret-0003"
	secretRefresh  = "refresh-5ecret-0004"
	secretIDToken  = "idtoken-5ecret-0005"
)

// personFixture is a Better Auth database with alice (two accounts, three
// sessions, one of them expired, two organizations) and bob (one session).
func personFixture(t *testing.T) (*fixture, *UserBrowser) {
	t.Helper()
	f := newFixture(t, authprovider.BetterAuth)
	f.insert(t, seedUser{key: "alice", email: "alice@x", name: "Alice", created: t0})
	f.insert(t, seedUser{key: "bob", email: "bob@x", name: "Bob", created: t0})
	alice, bob := f.id("alice"), f.id("bob")
	now := time.Now()
	f.exec(t, `INSERT INTO neon_auth.account ("accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken", scope, password, "createdAt", "updatedAt") VALUES
 ($1::text, 'credential', $1::uuid, NULL, NULL, NULL, NULL, $2, $5, $5),
 ('gh-42', 'github', $1::uuid, $3, $4, $6, 'read:user', NULL, $5::timestamptz + interval '1 day', $5::timestamptz + interval '2 days')`,
		alice, secretPassword, secretAccess, secretRefresh, t0, secretIDToken)
	f.exec(t, `INSERT INTO neon_auth.session ("expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "impersonatedBy") VALUES
 ($2::timestamptz + interval '7 days', $3 || '-a1', $2::timestamptz - interval '1 hour', $2, '203.0.113.7', 'Mozilla/5.0 Firefox/128.0', $1, NULL),
 ($2::timestamptz + interval '7 days', $3 || '-a2', $2::timestamptz - interval '2 hours', $2, '198.51.100.1', NULL, $1, 'admin-1'),
 ($2::timestamptz - interval '1 day', $3 || '-a3', $2::timestamptz - interval '9 days', $2::timestamptz - interval '8 days', NULL, NULL, $1, NULL),
 ($2::timestamptz + interval '7 days', $3 || '-b1', $2, $2, NULL, NULL, $4, NULL)`,
		alice, now, secretToken, bob)
	f.exec(t, `INSERT INTO neon_auth.organization (id, name, slug, "createdAt") VALUES
 ('00000000-0000-4000-8000-0000000000f1', 'Acme', 'acme', $1), ('00000000-0000-4000-8000-0000000000f2', 'Globex', 'globex', $1)`, t0)
	f.exec(t, `INSERT INTO neon_auth.member ("organizationId", "userId", role, "createdAt") VALUES
 ('00000000-0000-4000-8000-0000000000f2', $1, 'member', $2::timestamptz + interval '1 day'),
 ('00000000-0000-4000-8000-0000000000f1', $1, 'owner', $2)`, alice, t0)
	return f, f.browser(t, nil)
}

func TestPersonPanels(t *testing.T) {
	_, b := personFixture(t)
	ctx := context.Background()
	alice := betterAuthIDs["alice"]

	accounts, err := b.PersonAccounts(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 2 || accounts[0].ProviderID != "credential" || !accounts[0].HasPassword ||
		accounts[1].ProviderID != "github" || accounts[1].AccountID != "gh-42" || accounts[1].HasPassword || accounts[1].Scope != "read:user" {
		t.Errorf("accounts = %+v", accounts)
	}
	if !accounts[1].CreatedAt.Equal(t0.AddDate(0, 0, 1)) || !accounts[1].UpdatedAt.Equal(t0.AddDate(0, 0, 2)) {
		t.Errorf("github account dates = %v, %v", accounts[1].CreatedAt, accounts[1].UpdatedAt)
	}

	ss, err := b.PersonSessions(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss.Sessions) != 3 || ss.More != 0 {
		t.Fatalf("sessions = %+v", ss)
	}
	first, second, old := ss.Sessions[0], ss.Sessions[1], ss.Sessions[2]
	if first.IPAddress != "203.0.113.7" || first.UserAgent != "Mozilla/5.0 Firefox/128.0" || first.Expired {
		t.Errorf("newest session = %+v", first)
	}
	if second.ImpersonatedBy != "admin-1" || second.Expired {
		t.Errorf("second session = %+v", second)
	}
	if !old.Expired {
		t.Errorf("a session past its expiry is not marked expired: %+v", old)
	}
	if ss.LastSignIn == nil || !ss.LastSignIn.Equal(first.CreatedAt) {
		t.Errorf("last sign-in = %v, want the newest session's start %v", ss.LastSignIn, first.CreatedAt)
	}

	ms, err := b.PersonMemberships(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Slug != "acme" || ms[0].Role != "owner" || ms[1].Name != "Globex" || ms[1].Role != "member" {
		t.Errorf("memberships = %+v", ms)
	}

	ban, err := b.PersonBan(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if ban.Banned || ban.Active() || ban.Expires != nil {
		t.Errorf("unbanned user's ban state = %+v", ban)
	}

	// No struct carries a secret, however it is printed.
	all := fmt.Sprintf("%+v %+v %+v %+v %#v %#v", accounts, ss, ms, ban, accounts, ss)
	for _, s := range []string{secretToken, secretPassword, secretAccess, secretRefresh, secretIDToken, "5ecret"} {
		if strings.Contains(all, s) {
			t.Errorf("a secret (%s) reached the returned values: %s", s, all)
		}
	}
}

func TestPersonSessionsBounded(t *testing.T) {
	f, b := personFixture(t)
	carol := f.id("carol")
	f.insert(t, seedUser{key: "carol", email: "carol@x", created: t0})
	f.exec(t, `INSERT INTO neon_auth.session ("expiresAt", token, "createdAt", "updatedAt", "userId")
SELECT now() + interval '1 day', 'tok-' || i, $2::timestamptz + i * interval '1 minute', now(), $1
  FROM generate_series(1, $3::int) i`, carol, t0, PersonSessionLimit+7)
	ss, err := b.PersonSessions(context.Background(), carol)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss.Sessions) != PersonSessionLimit || ss.More != 7 {
		t.Fatalf("listed %d sessions, %d more; want %d and 7", len(ss.Sessions), ss.More, PersonSessionLimit)
	}
	newest := t0.Add(time.Duration(PersonSessionLimit+7) * time.Minute)
	if !ss.Sessions[0].CreatedAt.Equal(newest) || ss.LastSignIn == nil || !ss.LastSignIn.Equal(newest) {
		t.Errorf("newest listed %v, last sign-in %v; want %v", ss.Sessions[0].CreatedAt, ss.LastSignIn, newest)
	}
}

// sessionCount counts a user's sessions straight from the table.
func sessionCount(t *testing.T, f *fixture, userID string) int {
	t.Helper()
	var n int
	if err := f.conn.QueryRow(context.Background(), `SELECT count(*) FROM neon_auth.session WHERE "userId" = $1`, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// banRow reads the user row's ban columns straight from the table.
func banRow(t *testing.T, f *fixture, userID string) (banned *bool, reason *string, expires *time.Time) {
	t.Helper()
	if err := f.conn.QueryRow(context.Background(), `SELECT banned, "banReason", "banExpires" FROM neon_auth."user" WHERE id = $1`, userID).
		Scan(&banned, &reason, &expires); err != nil {
		t.Fatal(err)
	}
	return banned, reason, expires
}

func TestBanRevokesSessions(t *testing.T) {
	f, b := personFixture(t)
	ctx := context.Background()
	alice, bob := f.id("alice"), f.id("bob")

	n, err := b.Ban(ctx, alice, "  spam  ", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("revoked %d sessions, want 3", n)
	}
	if got := sessionCount(t, f, alice); got != 0 {
		t.Errorf("alice keeps %d sessions after the ban", got)
	}
	if got := sessionCount(t, f, bob); got != 1 {
		t.Errorf("bob has %d sessions after alice's ban, want 1", got)
	}
	banned, reason, expires := banRow(t, f, alice)
	if banned == nil || !*banned || reason == nil || *reason != "spam" || expires != nil {
		t.Errorf("alice's row after a permanent ban: banned %v reason %v expires %v", banned, reason, expires)
	}
	st, err := b.PersonBan(ctx, alice)
	if err != nil || !st.Active() || st.Reason != "spam" || st.Expires != nil {
		t.Errorf("ban state = %+v, %v", st, err)
	}
	if bb, _, _ := banRow(t, f, bob); bb != nil && *bb {
		t.Error("bob is banned too")
	}

	// A timed ban; the user has no sessions left, so none are revoked.
	until := time.Now().Add(48 * time.Hour).Truncate(time.Microsecond)
	if n, err = b.Ban(ctx, alice, "", &until); err != nil || n != 0 {
		t.Fatalf("second ban: %d, %v", n, err)
	}
	banned, reason, expires = banRow(t, f, alice)
	if banned == nil || !*banned || reason != nil || expires == nil || !expires.Equal(until) {
		t.Errorf("alice's row after a timed ban: banned %v reason %v expires %v", banned, reason, expires)
	}

	// Unban clears all three columns.
	if err := b.Unban(ctx, alice); err != nil {
		t.Fatal(err)
	}
	banned, reason, expires = banRow(t, f, alice)
	if banned == nil || *banned || reason != nil || expires != nil {
		t.Errorf("alice's row after the unban: banned %v reason %v expires %v", banned, reason, expires)
	}
}

// TestBanIsOneTransaction: a ban whose session delete fails leaves the user
// row as it was, so a ban never stands without its revocations.
func TestBanIsOneTransaction(t *testing.T) {
	f, b := personFixture(t)
	alice := f.id("alice")
	// A trigger makes the session delete fail after the user row changed.
	f.exec(t, `CREATE FUNCTION neon_auth.refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'session delete refused'; END $$`)
	f.exec(t, `CREATE TRIGGER refuse BEFORE DELETE ON neon_auth.session FOR EACH ROW EXECUTE FUNCTION neon_auth.refuse_delete()`)
	if _, err := b.Ban(context.Background(), alice, "x", nil); err == nil {
		t.Fatal("the ban succeeded although its session delete failed")
	}
	if banned, reason, _ := banRow(t, f, alice); (banned != nil && *banned) || reason != nil {
		t.Errorf("the user row kept a ban whose revocations failed: banned %v reason %v", banned, reason)
	}
	if got := sessionCount(t, f, alice); got != 3 {
		t.Errorf("alice has %d sessions, want the 3 she had", got)
	}
}

func TestBanLifted(t *testing.T) {
	f, b := personFixture(t)
	alice := f.id("alice")
	f.exec(t, `UPDATE neon_auth."user" SET banned = true, "banReason" = 'old', "banExpires" = now() - interval '1 minute' WHERE id = $1`, alice)
	st, err := b.PersonBan(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Banned || !st.Lifted || st.Active() {
		t.Errorf("a ban past its expiry reads %+v, want lifted", st)
	}
}

func TestBanRefusesBadInput(t *testing.T) {
	f, b := personFixture(t)
	ctx := context.Background()
	alice := f.id("alice")
	past := time.Now().Add(-time.Minute)
	far := time.Now().AddDate(11, 0, 0)
	for _, c := range []struct {
		name, reason string
		expires      *time.Time
		field        string
	}{
		{"NUL", "a\x00b", nil, "reason"},
		{"10 KB", strings.Repeat("x", 10<<10), nil, "reason"},
		{"501 characters", strings.Repeat("é", MaxBanReason+1), nil, "reason"},
		{"bad UTF-8", "\xff", nil, "reason"},
		{"past", "", &past, "expires"},
		{"11 years", "", &far, "expires"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.Ban(ctx, alice, c.reason, c.expires)
			wantInputError(t, err, c.field)
		})
	}
	for _, id := range []string{"00000000-0000-4000-8000-000000000999", "not-a-uuid", ""} {
		if _, err := b.Ban(ctx, id, "", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("ban of %q: %v, want ErrNotFound", id, err)
		}
		if err := b.Unban(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("unban of %q: %v, want ErrNotFound", id, err)
		}
		if _, err := b.PersonBan(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("ban state of %q: %v, want ErrNotFound", id, err)
		}
	}
	if got := sessionCount(t, f, alice); got != 3 {
		t.Errorf("refused bans touched alice's sessions: %d left", got)
	}
	if _, err := b.Ban(ctx, alice, strings.Repeat("é", MaxBanReason), nil); err != nil {
		t.Errorf("a reason of exactly %d characters: %v", MaxBanReason, err)
	}
}

func TestPersonStackRefused(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	b := f.browser(t, nil)
	if _, err := b.PersonSessions(context.Background(), "user_x"); err == nil {
		t.Error("users_sync answered a sessions read")
	}
}
