// Package peopleseed fills a Better Auth branch's tables beyond "user" as
// Better Auth writes them: sessions, linked accounts, organizations with
// members and invitations, verification values and signing keys. The demo,
// the tests and the people benchmark seed through it, in a few set-based
// statements (generate_series), so a million users take seconds, not hours.
//
// Every secret column gets a value that starts with Options.SecretMarker,
// so a test can search every answer of the dashboard for it.
package peopleseed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options says how much to seed. The users must already be in
// neon_auth."user"; the seed spreads what it adds over them in their
// creation order.
type Options struct {
	// SessionsPerUser is the average number of sessions per user: each user
	// gets floor or ceil of it. 0 seeds none.
	SessionsPerUser float64
	// Organizations is how many organizations to create; MembersPer is the
	// members of each, taken from the users in turn, and InvitationsPer the
	// invitations of each (pending, accepted, expired and canceled in turn).
	Organizations, MembersPer, InvitationsPer int
	// Now is the instant the seed treats as now: sessions expire around it,
	// some before and most after. The zero value is time.Now().
	Now time.Time
	// SecretMarker begins every value of a secret column (session tokens,
	// account tokens and password hashes, verification values, private
	// keys), so a test can prove none reaches a page. "" uses "secret-".
	SecretMarker string
}

// Seed adds what o asks for to the Better Auth tables reached through
// conn, then analyzes them.
func Seed(ctx context.Context, conn *pgx.Conn, o Options) error {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.SecretMarker == "" {
		o.SecretMarker = "secret-"
	}
	now := o.Now.UTC()
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"number the users", `CREATE TEMP TABLE seed_users ON COMMIT DROP AS
  SELECT id, row_number() OVER (ORDER BY "createdAt", id) AS n, "createdAt" FROM neon_auth."user"`, nil},
		// Sessions: user n gets k = floor(n*per) - floor((n-1)*per)
		// sessions; one in 10 expired, one in 50 impersonated by the
		// first user, IPs from three networks, four user agents.
		{"sessions", `INSERT INTO neon_auth.session (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "impersonatedBy")
SELECT gen_random_uuid(),
       CASE WHEN (g.n + g.j) % 10 = 0 THEN $2::timestamptz - interval '1 day' * (1 + g.n % 5) ELSE $2::timestamptz + interval '7 days' END,
       $3 || 'token-' || g.n || '-' || g.j,
       least(u."createdAt" + interval '1 hour' * g.j * 7, $2::timestamptz - interval '1 minute' * g.j),
       least(u."createdAt" + interval '1 hour' * g.j * 7 + interval '1 day', $2::timestamptz - interval '1 second' * g.j),
       CASE (g.n + g.j) % 3 WHEN 0 THEN '10.0.' || (g.n % 256) || '.' || (g.j % 256)
                    WHEN 1 THEN '192.168.' || (g.n % 256) || '.' || (g.j % 256)
                    ELSE '2001:db8::' || to_hex(g.n % 65536) END,
       CASE (g.n + g.j) % 4 WHEN 0 THEN 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
                    WHEN 1 THEN 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
                    WHEN 2 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
                    ELSE 'curl/8.4.0' END,
       u.id,
       CASE WHEN (g.n * 7 + g.j) % 50 = 0 THEN (SELECT id::text FROM seed_users WHERE n = 1) END
  FROM seed_users u
  CROSS JOIN LATERAL (SELECT u.n, j FROM generate_series(1, (floor(u.n * $1::float8) - floor((u.n - 1) * $1::float8))::int) j) g`,
			[]any{o.SessionsPerUser, now, o.SecretMarker}},
		// Accounts: every user signs in with email and password; one in
		// three also with Google, one in five with GitHub.
		{"accounts", `INSERT INTO neon_auth.account (id, "accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken", scope, password, "createdAt", "updatedAt")
SELECT gen_random_uuid(), a.account_id, a.provider, u.id,
       CASE WHEN a.provider <> 'credential' THEN $1 || 'access-' || u.n END,
       CASE WHEN a.provider <> 'credential' THEN $1 || 'refresh-' || u.n END,
       CASE WHEN a.provider = 'google' THEN $1 || 'id-' || u.n END,
       CASE WHEN a.provider <> 'credential' THEN 'openid email profile' END,
       CASE WHEN a.provider = 'credential' THEN $1 || 'hash-' || u.n END,
       u."createdAt", u."createdAt" + interval '2 days'
  FROM seed_users u
  CROSS JOIN LATERAL (VALUES ('credential', u.id::text, true),
                             ('google', 'g-' || (100000000 + u.n), u.n % 3 = 0),
                             ('github', 'gh-' || (5000 + u.n), u.n % 5 = 0)) a(provider, account_id, keep)
 WHERE a.keep`, []any{o.SecretMarker}},
		{"organizations", `INSERT INTO neon_auth.organization (id, name, slug, "createdAt", metadata)
SELECT gen_random_uuid(), 'Organization ' || i, 'org-' || i, $2::timestamptz - interval '1 day' * i, NULL
  FROM generate_series(1, $1::int) i
 WHERE EXISTS (SELECT FROM seed_users)`, []any{o.Organizations, now}},
		// Members: organization i takes MembersPer users starting at
		// user (i-1)*MembersPer+1, wrapping; the first is its owner.
		{"members", `INSERT INTO neon_auth.member (id, "organizationId", "userId", role, "createdAt")
SELECT gen_random_uuid(), o.id, u.id, CASE WHEN m = 1 THEN 'owner' WHEN m % 5 = 0 THEN 'admin' ELSE 'member' END, o."createdAt" + interval '1 hour' * m
  FROM (SELECT id, "createdAt", row_number() OVER (ORDER BY slug) AS i FROM neon_auth.organization) o
  CROSS JOIN generate_series(1, $1::int) m
  JOIN seed_users u ON u.n = ((o.i - 1) * $1 + m - 1) % nullif((SELECT count(*) FROM seed_users), 0) + 1`, []any{o.MembersPer}},
		{"invitations", `INSERT INTO neon_auth.invitation (id, "organizationId", email, role, status, "expiresAt", "createdAt", "inviterId")
SELECT gen_random_uuid(), o.id, 'invitee' || k || '@' || o.slug || '.example.com', 'member',
       CASE k % 4 WHEN 1 THEN 'pending' WHEN 2 THEN 'accepted' WHEN 3 THEN 'pending' ELSE 'canceled' END,
       CASE k % 4 WHEN 3 THEN $2::timestamptz - interval '2 days' ELSE $2::timestamptz + interval '2 days' END,
       $2::timestamptz - interval '5 days',
       (SELECT "userId" FROM neon_auth.member WHERE "organizationId" = o.id AND role = 'owner' LIMIT 1)
  FROM neon_auth.organization o CROSS JOIN generate_series(1, $1::int) k`, []any{o.InvitationsPer, now}},
		{"verification values", `INSERT INTO neon_auth.verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
SELECT gen_random_uuid(), 'email-verification:user' || n || '@example.com', $1 || 'verify-' || n, $2::timestamptz + interval '1 hour', $2::timestamptz, $2::timestamptz
  FROM seed_users WHERE n <= 5`, []any{o.SecretMarker, now}},
		{"signing keys", `INSERT INTO neon_auth.jwks (id, "publicKey", "privateKey", "createdAt")
VALUES (gen_random_uuid(), '{"kty":"OKP","crv":"Ed25519","x":"seeded-public"}', $1 || 'private-key', $2::timestamptz)`, []any{o.SecretMarker, now}},
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, s := range steps {
		if s.what == "sessions" && o.SessionsPerUser <= 0 {
			continue
		}
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("peopleseed: %s: %w", s.what, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ANALYZE neon_auth.session, neon_auth.account, neon_auth.organization, neon_auth.member, neon_auth.invitation")
	return err
}
