package bench

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// detailTarget is what a user's whole detail page must read in: every panel
// together, p99.
var detailTarget = &Target{MaxP99: 5 * time.Millisecond}

// The bare statements of a user's panels, as a person would type them: the
// same columns db/person.go selects (never a token or password hash), the
// same indexes, the same bounds.
const (
	bareSessionsSQL = `SELECT id, "createdAt", "updatedAt", "expiresAt", "ipAddress", "userAgent", "impersonatedBy",
       "activeOrganizationId", "expiresAt" <= now()
  FROM neon_auth.session WHERE "userId" = $1::uuid
 ORDER BY "createdAt" DESC, id DESC LIMIT 51`
	bareAccountsSQL = `SELECT "providerId", "accountId", scope, password IS NOT NULL, "createdAt", "updatedAt"
  FROM neon_auth.account WHERE "userId" = $1::uuid ORDER BY "createdAt", id LIMIT 100`
	bareMembershipsSQL = `SELECT o.id, o.name, o.slug, m.role, m."createdAt"
  FROM neon_auth.member m JOIN neon_auth.organization o ON o.id = m."organizationId"
 WHERE m."userId" = $1::uuid ORDER BY m."createdAt", m.id LIMIT 100`
	bareBanSQL = `SELECT banned, "banReason", "banExpires" FROM neon_auth."user" WHERE id = $1::uuid`
)

// detailCases time each panel of a random user's detail page, and all of
// them together as the page reads them, against the bare statements. Each
// pair of runs reads the next of the suite's people.
func (s *suite) detailCases(ctx context.Context) []*Case {
	panels := []struct {
		name string
		ours func(context.Context, string) error
		sql  string
	}{
		{"sessions (PersonSessions)", func(ctx context.Context, id string) error { _, err := s.b.PersonSessions(ctx, id); return err }, bareSessionsSQL},
		{"linked accounts (PersonAccounts)", func(ctx context.Context, id string) error { _, err := s.b.PersonAccounts(ctx, id); return err }, bareAccountsSQL},
		{"organizations (PersonMemberships)", func(ctx context.Context, id string) error { _, err := s.b.PersonMemberships(ctx, id); return err }, bareMembershipsSQL},
		{"ban state (PersonBan)", func(ctx context.Context, id string) error { _, err := s.b.PersonBan(ctx, id); return err }, bareBanSQL},
	}
	// The bare statements go through pgx's statement cache, as the
	// dashboard's do.
	bare := func(ctx context.Context, sql string) error {
		return runBare(ctx, s.pool, pgx.QueryExecModeCacheStatement, sql, s.person)
	}
	all := &Case{
		Name:   "user detail: every panel of a random user",
		Next:   s.nextPerson,
		Target: detailTarget,
		Plan:   s.planOf(ctx, bareSessionsSQL, s.people[0]),
		Ours: func(ctx context.Context) error {
			for _, p := range panels {
				if err := p.ours(ctx, s.person); err != nil {
					return err
				}
			}
			return nil
		},
		Bare: func(ctx context.Context) error {
			for _, p := range panels {
				if err := bare(ctx, p.sql); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cases := []*Case{all}
	for _, p := range panels {
		cases = append(cases, &Case{
			Name: "user detail panel: " + p.name,
			Next: s.nextPerson,
			Plan: s.planOf(ctx, p.sql, s.people[0]),
			Ours: func(ctx context.Context) error { return p.ours(ctx, s.person) },
			Bare: func(ctx context.Context) error { return bare(ctx, p.sql) },
		})
	}
	return cases
}
