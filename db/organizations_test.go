package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// orgFixture is a Better Auth database with helpers to seed organizations
// the way Better Auth's organization plugin writes them.
type orgFixture struct {
	*fixture
	t *testing.T
}

func newOrgFixture(t *testing.T) *orgFixture {
	t.Helper()
	return &orgFixture{fixture: newFixture(t, authprovider.BetterAuth), t: t}
}

// org inserts an organization and returns its id.
func (f *orgFixture) org(name, slug string, created time.Time) string {
	f.t.Helper()
	id := uuid.NewString()
	f.exec(f.t, `INSERT INTO neon_auth.organization (id, name, slug, "createdAt") VALUES ($1, $2, $3, $4)`, id, name, slug, created)
	return id
}

// user inserts a user and returns its id.
func (f *orgFixture) user(email string) string {
	f.t.Helper()
	f.insert(f.t, seedUser{key: email, email: email, name: "Name of " + email, created: t0})
	return f.id(email)
}

func (f *orgFixture) member(orgID, userID, role string, joined time.Time) {
	f.t.Helper()
	f.exec(f.t, `INSERT INTO neon_auth.member ("organizationId", "userId", role, "createdAt") VALUES ($1, $2, $3, $4)`, orgID, userID, role, joined)
}

func (f *orgFixture) invite(orgID, inviterID, email, status string, created, expires time.Time) {
	f.t.Helper()
	f.exec(f.t, `INSERT INTO neon_auth.invitation ("organizationId", email, role, status, "expiresAt", "createdAt", "inviterId")
VALUES ($1, $2, 'member', $3, $4, $5, $6)`, orgID, email, status, expires, created, inviterID)
}

// TestOrganizationCountsAndStates: the list counts members and open
// invitations only (pending and unexpired); an invitation's state is its
// stored status, except a pending one past its expiry, which is expired.
func TestOrganizationCountsAndStates(t *testing.T) {
	f := newOrgFixture(t)
	b := f.browser(t, nil)
	ctx := context.Background()
	now := time.Now()
	ada, bob, cy := f.user("ada@acme.test"), f.user("bob@acme.test"), f.user("cy@acme.test")
	acme := f.org("Acme", "acme", t0)
	empty := f.org("Empty", "empty", t0.Add(time.Hour))
	f.member(acme, ada, "owner", t0)
	f.member(acme, bob, "member", t0.Add(time.Minute))
	f.member(acme, cy, "admin", t0.Add(2*time.Minute))
	f.invite(acme, ada, "open@x.test", "pending", now.Add(-time.Hour), now.Add(48*time.Hour))
	f.invite(acme, ada, "late@x.test", "pending", now.Add(-3*time.Hour), now.Add(-time.Minute))
	f.invite(acme, bob, "yes@x.test", "accepted", now.Add(-4*time.Hour), now.Add(time.Hour))
	f.invite(acme, bob, "no@x.test", "rejected", now.Add(-5*time.Hour), now.Add(time.Hour))
	f.invite(acme, cy, "gone@x.test", "canceled", now.Add(-6*time.Hour), now.Add(-time.Hour))

	p, err := b.ListOrganizations(ctx, OrganizationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Organizations) != 2 || p.Matching != (BoundedCount{N: 2}) || p.Next != "" || p.Prev != "" {
		t.Fatalf("page = %+v", p)
	}
	got := p.Organizations[0]
	if got.ID != acme || got.Name != "Acme" || got.Slug != "acme" || !got.CreatedAt.Equal(t0) {
		t.Errorf("first organization = %+v", got)
	}
	if got.Members != (BoundedCount{N: 3}) || got.PendingInvitations != (BoundedCount{N: 1}) {
		t.Errorf("acme counts: %+v members, %+v pending; want 3 and 1", got.Members, got.PendingInvitations)
	}
	if e := p.Organizations[1]; e.ID != empty || e.Members.N != 0 || e.PendingInvitations.N != 0 {
		t.Errorf("second organization = %+v", e)
	}

	d, err := b.Organization(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if d.Organization != got || d.MetadataSet || d.Logo != "" {
		t.Errorf("detail = %+v, want the list's row and no metadata", d)
	}

	ms, err := b.OrganizationMembers(ctx, acme, "")
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range ms.Members {
		members = append(members, m.Email+" "+m.Role+" "+m.Name)
	}
	if want := []string{"ada@acme.test owner Name of ada@acme.test", "bob@acme.test member Name of bob@acme.test", "cy@acme.test admin Name of cy@acme.test"}; !slices.Equal(members, want) || ms.Next != "" {
		t.Errorf("members = %q (next %q), want %q", members, ms.Next, want)
	}
	if ms.Members[0].UserID != ada || !ms.Members[0].JoinedAt.Equal(t0) {
		t.Errorf("first member = %+v", ms.Members[0])
	}

	is, err := b.OrganizationInvitations(ctx, acme, "")
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, inv := range is.Invitations {
		states = append(states, fmt.Sprintf("%s %s/%s by %s", inv.Email, inv.Status, inv.State, inv.InviterEmail))
	}
	want := []string{
		"open@x.test pending/pending by ada@acme.test",
		"late@x.test pending/expired by ada@acme.test",
		"yes@x.test accepted/accepted by bob@acme.test",
		"no@x.test rejected/rejected by bob@acme.test",
		"gone@x.test canceled/canceled by cy@acme.test",
	}
	if !slices.Equal(states, want) {
		t.Errorf("invitations =\n%s\nwant\n%s", strings.Join(states, "\n"), strings.Join(want, "\n"))
	}
}

// TestOrganizationPaging walks the list both ways in (name, id) order,
// names shared by several organizations included, and searches names and
// slugs with LIKE's characters taken literally.
func TestOrganizationPaging(t *testing.T) {
	f := newOrgFixture(t)
	b := f.browser(t, nil)
	ctx := context.Background()
	// 130 organizations: 10 names, each shared by 13 of them.
	f.exec(t, `INSERT INTO neon_auth.organization (id, name, slug, "createdAt")
SELECT gen_random_uuid(), 'team ' || (g % 10), 'slug-' || g, now() FROM generate_series(1, 130) g`)
	f.org("100% pure", "under_score", t0)
	var want []string
	rows, err := f.conn.Query(ctx, `SELECT id::text FROM neon_auth.organization ORDER BY name, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	var got []string
	var pages []OrganizationPage
	req := OrganizationsRequest{}
	for {
		p, err := b.ListOrganizations(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if p.Matching != (BoundedCount{N: 131}) {
			t.Fatalf("matching = %+v, want 131", p.Matching)
		}
		if (req.After == "") != (p.Prev == "") {
			t.Fatalf("page %d: prev %q after %q", len(pages), p.Prev, req.After)
		}
		pages = append(pages, p)
		for _, o := range p.Organizations {
			got = append(got, o.ID)
		}
		if p.Next == "" {
			break
		}
		if len(p.Organizations) != OrganizationPageSize {
			t.Fatalf("a page before the last has %d rows", len(p.Organizations))
		}
		req = OrganizationsRequest{After: p.Next}
	}
	if len(pages) != 3 {
		t.Errorf("%d pages, want 3", len(pages))
	}
	sameIDs(t, "forward walk", got, want)

	// Back from the last page: the second page, whole, then the first.
	back, err := b.ListOrganizations(ctx, OrganizationsRequest{Before: pages[2].Prev})
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "page before the last", orgIDs(back.Organizations), orgIDs(pages[1].Organizations))
	if back.Next == "" || back.Prev == "" {
		t.Errorf("middle page reached backward lacks links: %+v", back)
	}
	first, err := b.ListOrganizations(ctx, OrganizationsRequest{Before: back.Prev})
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "first page reached backward", orgIDs(first.Organizations), orgIDs(pages[0].Organizations))
	if first.Prev != "" {
		t.Errorf("first page reached backward has prev %q", first.Prev)
	}

	for _, c := range []struct {
		q    string
		want int64
	}{{"TEAM 3", 13}, {"slug-13", 2}, {"%", 1}, {"_", 1}, {"  100%  ", 1}, {"nothing", 0}} {
		p, err := b.ListOrganizations(ctx, OrganizationsRequest{Search: c.q})
		if err != nil {
			t.Fatal(err)
		}
		if p.Matching.N != c.want || int64(len(p.Organizations)) != c.want {
			t.Errorf("search %q: %d rows, matching %+v; want %d", c.q, len(p.Organizations), p.Matching, c.want)
		}
	}
}

func orgIDs(os []Organization) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

// TestOrganizationMembersPaging: 250 members in pages of 100, in joining
// order, ties broken by id; invitations likewise, newest first.
func TestOrganizationMembersPaging(t *testing.T) {
	f := newOrgFixture(t)
	b := f.browser(t, nil)
	ctx := context.Background()
	org := f.org("Big", "big", t0)
	other := f.org("Other", "other", t0)
	f.exec(t, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
SELECT gen_random_uuid(), 'u' || g, 'u' || g || '@big.test', true, now(), now() FROM generate_series(1, 250) g`)
	// Joining times repeat, so the id decides between members who joined together.
	f.exec(t, `INSERT INTO neon_auth.member ("organizationId", "userId", role, "createdAt")
SELECT $1, id, 'member', $2::timestamptz + (row_number() OVER (ORDER BY email) % 7) * interval '1 minute' FROM neon_auth."user"`, org, t0)
	f.exec(t, `INSERT INTO neon_auth.invitation ("organizationId", email, status, "expiresAt", "createdAt", "inviterId")
SELECT $1, 'i' || g || '@x.test', 'pending', now() + interval '1 day', $2::timestamptz + (g % 5) * interval '1 second',
       (SELECT id FROM neon_auth."user" LIMIT 1)
  FROM generate_series(1, 205) g`, org, t0)
	f.member(other, f.user("solo@other.test"), "owner", t0)

	wantMembers := queryIDs(t, f, `SELECT id::text FROM neon_auth.member WHERE "organizationId" = $1 ORDER BY "createdAt", id`, org)
	var got []string
	after, pages := "", 0
	for {
		p, err := b.OrganizationMembers(ctx, org, after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range p.Members {
			got = append(got, m.ID)
			if !strings.HasSuffix(m.Email, "@big.test") {
				t.Fatalf("member of another organization: %+v", m)
			}
		}
		if after = p.Next; after == "" {
			break
		}
	}
	if pages != 3 {
		t.Errorf("%d member pages, want 3", pages)
	}
	sameIDs(t, "members", got, wantMembers)

	wantInvs := queryIDs(t, f, `SELECT id::text FROM neon_auth.invitation WHERE "organizationId" = $1 ORDER BY "createdAt" DESC, id DESC`, org)
	got, after, pages = nil, "", 0
	for {
		p, err := b.OrganizationInvitations(ctx, org, after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, inv := range p.Invitations {
			got = append(got, inv.ID)
		}
		if after = p.Next; after == "" {
			break
		}
	}
	if pages != 3 {
		t.Errorf("%d invitation pages, want 3", pages)
	}
	sameIDs(t, "invitations", got, wantInvs)

	// A members cursor does not page invitations.
	p, err := b.OrganizationMembers(ctx, org, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.OrganizationInvitations(ctx, org, p.Next)
	wantInputError(t, err, "cursor")
}

func queryIDs(t *testing.T, f *orgFixture, sql string, args ...any) []string {
	t.Helper()
	rows, err := f.conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOrganizationCountsStop: counts stop past MaxCounted instead of
// reading a huge organization through.
func TestOrganizationCountsStop(t *testing.T) {
	f := newOrgFixture(t)
	b := f.browser(t, nil)
	org := f.org("Huge", "huge", t0)
	f.exec(t, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
SELECT gen_random_uuid(), '', 'h' || g || '@huge.test', true, now(), now() FROM generate_series(1, $1::int) g`, MaxCounted+5)
	f.exec(t, `INSERT INTO neon_auth.member ("organizationId", "userId", role, "createdAt") SELECT $1, id, 'member', now() FROM neon_auth."user"`, org)
	d, err := b.Organization(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	if d.Members != (BoundedCount{N: MaxCounted, More: true}) {
		t.Errorf("members = %+v, want more than %d", d.Members, MaxCounted)
	}
}

// TestOrganizationDetailText: the logo and metadata come cut, and a
// metadata that is set but empty is told apart from none.
func TestOrganizationDetailText(t *testing.T) {
	f := newOrgFixture(t)
	b := f.browser(t, nil)
	ctx := context.Background()
	org := f.org("Meta", "meta", t0)
	long := strings.Repeat("é", MaxMetadataShown+50)
	f.exec(t, `UPDATE neon_auth.organization SET metadata = $2, logo = $3 WHERE id = $1`, org, long, "https://x.test/"+strings.Repeat("a", 1000))
	d, err := b.Organization(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if !d.MetadataSet || !d.MetadataCut || d.Metadata != strings.Repeat("é", MaxMetadataShown) {
		t.Errorf("metadata: set %v cut %v, %d characters", d.MetadataSet, d.MetadataCut, len([]rune(d.Metadata)))
	}
	if !d.LogoCut || len(d.Logo) != MaxLogoShown {
		t.Errorf("logo: cut %v, %d bytes", d.LogoCut, len(d.Logo))
	}
	f.exec(t, `UPDATE neon_auth.organization SET metadata = '' WHERE id = $1`, org)
	if d, err = b.Organization(ctx, org); err != nil || !d.MetadataSet || d.MetadataCut || d.Metadata != "" {
		t.Errorf("empty metadata: %+v, %v", d, err)
	}
}

// TestOrganizationBadInput: ids that cannot exist are not found without a
// query; hostile search and cursor values are refused by field; Stack
// Auth's table has no organizations.
func TestOrganizationBadInput(t *testing.T) {
	f := newOrgFixture(t)
	ctx := context.Background()
	b := f.browser(t, nil)
	f.org("Real", "real", t0)
	// A closed pool fails any query, so ErrNoOrganization proves none ran.
	closed := f.browser(t, nil)
	closed.pool.Close()
	for _, id := range []string{"", "nope", strings.Repeat("a", 10<<10), "0000000-0000-4000-8000-00000000000a\x00", "{00000000-0000-4000-8000-00000000000a}"} {
		if _, err := closed.Organization(ctx, id); !errors.Is(err, ErrNoOrganization) {
			t.Errorf("Organization(%.20q) = %v, want ErrNoOrganization", id, err)
		}
		if _, err := closed.OrganizationMembers(ctx, id, ""); !errors.Is(err, ErrNoOrganization) {
			t.Errorf("OrganizationMembers(%.20q) = %v, want ErrNoOrganization", id, err)
		}
	}
	if _, err := b.Organization(ctx, uuid.NewString()); !errors.Is(err, ErrNoOrganization) {
		t.Errorf("unknown uuid: %v, want ErrNoOrganization", err)
	}
	for _, req := range []OrganizationsRequest{
		{Search: strings.Repeat("x", 10<<10)},
		{Search: "a\x00b"},
		{Search: "\xff"},
	} {
		_, err := b.ListOrganizations(ctx, req)
		wantInputError(t, err, "q")
	}
	for _, req := range []OrganizationsRequest{
		{After: "!!"},
		{After: strings.Repeat("A", 10<<10)},
		{Before: encodeKeyset(keysetMembers, keyset{at: t0})},
		{After: "x", Before: "y"},
	} {
		_, err := b.ListOrganizations(ctx, req)
		wantInputError(t, err, "cursor")
	}

	stack := newFixture(t, authprovider.Stack).browser(t, nil)
	if _, err := stack.ListOrganizations(ctx, OrganizationsRequest{}); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Stack Auth list: %v, want ErrSchemaMissing", err)
	}
}

// TestOrganizationGone: a database whose organization table went away
// (the plugin's tables dropped) reads as a missing schema, not a crash.
func TestOrganizationGone(t *testing.T) {
	f := newOrgFixture(t)
	b := f.browser(t, nil)
	f.exec(t, `DROP TABLE neon_auth.invitation, neon_auth.member, neon_auth.organization`)
	if _, err := b.ListOrganizations(context.Background(), OrganizationsRequest{}); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("list without the tables: %v, want ErrSchemaMissing", err)
	}
}
