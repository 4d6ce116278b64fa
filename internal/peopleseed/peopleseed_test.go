package peopleseed

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// TestSeedFillsEveryTable seeds 100 users' people and checks each table
// holds what the options asked for, with the secret columns marked.
func TestSeedFillsEveryTable(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sandbox.BetterAuthDDL()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO neon_auth."user" (name, email, "emailVerified", "createdAt")
SELECT 'User ' || i, 'user' || i || '@example.com', true, now() - interval '1 day' * (200 - i) FROM generate_series(1, 100) i`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := Seed(ctx, conn, Options{SessionsPerUser: 2.5, Organizations: 3, MembersPer: 4, InvitationsPer: 4, Now: now, SecretMarker: "s3cr3t-"}); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]int64{
		`SELECT count(*) FROM neon_auth.session`:                                                 250,
		`SELECT count(DISTINCT "userId") FROM neon_auth.session`:                                 100,
		`SELECT count(*) FROM neon_auth.session WHERE token NOT LIKE 's3cr3t-%'`:                 0,
		`SELECT count(*) FROM neon_auth.account WHERE "providerId" = 'credential'`:               100,
		`SELECT count(*) FROM neon_auth.account WHERE password NOT LIKE 's3cr3t-%'`:              0,
		`SELECT count(*) FROM neon_auth.organization`:                                            3,
		`SELECT count(*) FROM neon_auth.member`:                                                  12,
		`SELECT count(*) FROM neon_auth.member WHERE role = 'owner'`:                             3,
		`SELECT count(*) FROM neon_auth.invitation`:                                              12,
		`SELECT count(*) FROM neon_auth.invitation WHERE "inviterId" IS NULL`:                    0,
		`SELECT count(*) FROM neon_auth.verification WHERE value LIKE 's3cr3t-%'`:                5,
		`SELECT count(*) FROM neon_auth.jwks WHERE "privateKey" LIKE 's3cr3t-%'`:                 1,
		`SELECT count(*) FROM neon_auth.session WHERE "updatedAt" < "createdAt"`:                 0,
		`SELECT count(*) FROM neon_auth.session WHERE "createdAt" > now() + interval '1 minute'`: 0,
	} {
		var got int64
		if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got != want {
			t.Errorf("%s = %d, want %d", query, got, want)
		}
	}
	var expired, active int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE "expiresAt" < $1), count(*) FILTER (WHERE "expiresAt" > $1) FROM neon_auth.session`, now).Scan(&expired, &active); err != nil {
		t.Fatal(err)
	}
	if expired == 0 || active == 0 {
		t.Errorf("sessions: %d expired, %d active; want both", expired, active)
	}
}

// TestSeedWithoutUsers: a branch with no users yet gets no sessions,
// organizations or invitations, and no error.
func TestSeedWithoutUsers(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sandbox.BetterAuthDDL()); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, conn, Options{SessionsPerUser: 3, Organizations: 2, MembersPer: 3, InvitationsPer: 4}); err != nil {
		t.Fatalf("seed without users: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM neon_auth.session) + (SELECT count(*) FROM neon_auth.organization) + (SELECT count(*) FROM neon_auth.invitation)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows seeded without users: %d, %v", n, err)
	}
}
