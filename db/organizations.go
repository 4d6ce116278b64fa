package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// ErrNoOrganization reports an organization id that no row of
// neon_auth.organization has.
var ErrNoOrganization = errors.New("organization not found")

// MaxCounted is how far the organization pages count members, pending
// invitations and organizations: past it a count says "more than", so that
// a page never counts a huge organization through.
const MaxCounted = 10_000

// OrganizationPageSize is how many organizations one page lists.
const OrganizationPageSize = 50

// Limits on what the organization pages show of free text an application
// wrote: the metadata and the logo are shown cut, never whole.
const (
	MaxMetadataShown = 2000
	MaxLogoShown     = 300
)

// BoundedCount is a count that stops at MaxCounted.
type BoundedCount struct {
	N int64
	// More reports that there are more than N (= MaxCounted).
	More bool
}

// Organization is one row of neon_auth.organization as the list shows it.
type Organization struct {
	ID        string
	Name      string
	Slug      string
	CreatedAt time.Time
	Members   BoundedCount
	// PendingInvitations counts invitations still open: status 'pending'
	// and not yet expired.
	PendingInvitations BoundedCount
}

// OrganizationDetail is one organization's row. Metadata is free text an
// application stores; it comes cut to MaxMetadataShown characters.
type OrganizationDetail struct {
	Organization
	Logo        string
	LogoCut     bool
	Metadata    string
	MetadataSet bool
	MetadataCut bool
}

// OrganizationsRequest asks for one page of organizations. At most one of
// After and Before may be set; none asks for the first page.
type OrganizationsRequest struct {
	// Search matches a case-insensitive substring of the name or the slug;
	// % and _ match themselves.
	Search string
	After  string
	Before string
}

// OrganizationPage is one page of organizations by name.
type OrganizationPage struct {
	Organizations []Organization
	// Matching counts the organizations the search selects (all of them
	// without one), up to MaxCounted.
	Matching BoundedCount
	// Next and Prev are the cursors of the following and preceding pages,
	// "" at either end.
	Next, Prev string
	// Search is the search as applied, trimmed.
	Search string
}

// organizationColumns selects an organization as the list shows it; the
// counts stop at MaxCounted + 1 rows, each read through the organization's
// index on member or invitation.
var organizationColumns = fmt.Sprintf(`o.id, o.name, o.slug, o."createdAt",
  (SELECT count(*) FROM (SELECT 1 FROM neon_auth.member m
    WHERE m."organizationId" = o.id LIMIT %[1]d) mc),
  (SELECT count(*) FROM (SELECT 1 FROM neon_auth.invitation i
    WHERE i."organizationId" = o.id AND i.status = 'pending' AND i."expiresAt" > now() LIMIT %[1]d) ic)`,
	MaxCounted+1)

func scanOrganization(row pgx.CollectableRow, extra ...any) (Organization, error) {
	var o Organization
	var id uuid.UUID
	if err := row.Scan(append([]any{&id, &o.Name, &o.Slug, &o.CreatedAt, &o.Members.N, &o.PendingInvitations.N}, extra...)...); err != nil {
		return Organization{}, err
	}
	o.ID = id.String()
	o.Members = bounded(o.Members.N)
	o.PendingInvitations = bounded(o.PendingInvitations.N)
	return o, nil
}

func bounded(n int64) BoundedCount {
	if n > MaxCounted {
		return BoundedCount{N: MaxCounted, More: true}
	}
	return BoundedCount{N: n}
}

// checkPeople refuses a browser without Better Auth's tables.
func (b *UserBrowser) checkPeople(op string) error {
	if err := b.check(op); err != nil {
		return err
	}
	if b.gen != authprovider.BetterAuth {
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrSchemaMissing)
	}
	return nil
}

// ListOrganizations returns one page of the organizations req selects,
// ordered by name then id, with each one's member and pending invitation
// counts. Bad requests give an *InputError naming the field ("q",
// "cursor").
func (b *UserBrowser) ListOrganizations(ctx context.Context, req OrganizationsRequest) (OrganizationPage, error) {
	const op = "list organizations"
	if err := b.checkPeople(op); err != nil {
		return OrganizationPage{}, err
	}
	search := strings.TrimSpace(req.Search)
	if err := checkText("q", search, maxSearchLen); err != nil {
		return OrganizationPage{}, err
	}
	if req.After != "" && req.Before != "" {
		return OrganizationPage{}, inputErr("cursor", "only one of after and before may be given")
	}
	var from *keyset
	for _, c := range []string{req.After, req.Before} {
		if c != "" {
			k, err := decodeKeyset(keysetOrganizations, "cursor", c)
			if err != nil {
				return OrganizationPage{}, err
			}
			from = &k
		}
	}
	p, err := b.organizationPage(ctx, search, from, req.Before == "")
	if err != nil {
		return OrganizationPage{}, wrapErr(op, b.target, err)
	}
	p.Search = search
	return p, nil
}

func (b *UserBrowser) organizationPage(ctx context.Context, search string, from *keyset, forward bool) (OrganizationPage, error) {
	var a sqlArgs
	var where []string
	if search != "" {
		p := a.text(likeContains(search), "text")
		where = append(where, "(o.name ILIKE "+p+" OR o.slug ILIKE "+p+")")
	}
	match := whereSQL(where)
	cmp, order := ">", "ASC"
	if !forward {
		cmp, order = "<", "DESC"
	}
	if from != nil {
		where = append(where, fmt.Sprintf("(o.name, o.id) %s (%s, %s)", cmp, a.text(from.name, "text"), a.text(from.id.String(), "uuid")))
	}
	n := OrganizationPageSize
	sql := fmt.Sprintf(`SELECT %s, (SELECT count(*) FROM (SELECT 1 FROM neon_auth.organization o%s LIMIT %d) oc)
  FROM neon_auth.organization o%s
 ORDER BY o.name %s, o.id %s
 LIMIT %d`, organizationColumns, match, MaxCounted+1, whereSQL(where), order, order, n+1)
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...)
	if err != nil {
		return OrganizationPage{}, err
	}
	var matching int64
	orgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Organization, error) { return scanOrganization(r, &matching) })
	if err != nil {
		return OrganizationPage{}, err
	}
	if len(orgs) == 0 && from != nil {
		// Nothing lies past the cursor (the rows it pointed into went
		// away): the first page is the useful answer.
		return b.organizationPage(ctx, search, nil, true)
	}
	more := len(orgs) > n
	orgs = orgs[:min(len(orgs), n)]
	if !forward {
		slices.Reverse(orgs)
	}
	p := OrganizationPage{Organizations: orgs, Matching: bounded(matching)}
	if len(orgs) == 0 {
		return p, nil
	}
	first, last := orgKey(orgs[0]), orgKey(orgs[len(orgs)-1])
	switch {
	case forward:
		if more {
			p.Next = encodeKeyset(keysetOrganizations, last)
		}
		if from != nil {
			p.Prev = encodeKeyset(keysetOrganizations, first)
		}
	default:
		if more {
			p.Prev = encodeKeyset(keysetOrganizations, first)
		}
		p.Next = encodeKeyset(keysetOrganizations, last)
	}
	return p, nil
}

func orgKey(o Organization) keyset {
	id, _ := uuid.Parse(o.ID)
	return keyset{name: o.Name, id: id}
}

// Organization returns the organization with this id, or ErrNoOrganization.
// An id that is not a uuid cannot exist and gives ErrNoOrganization without
// a query.
func (b *UserBrowser) Organization(ctx context.Context, id string) (OrganizationDetail, error) {
	const op = "organization"
	if err := b.checkPeople(op); err != nil {
		return OrganizationDetail{}, err
	}
	oid, err := organizationID(id)
	if err != nil {
		return OrganizationDetail{}, fmt.Errorf("db: %s on %s: %w", op, b.target, err)
	}
	sql := fmt.Sprintf(`SELECT %s,
  left(o.logo, %d), coalesce(char_length(o.logo) > %[2]d, false),
  left(o.metadata, %d), o.metadata IS NOT NULL, coalesce(char_length(o.metadata) > %[3]d, false)
  FROM neon_auth.organization o WHERE o.id = $1`, organizationColumns, MaxLogoShown, MaxMetadataShown)
	rows, err := b.pool.Query(ctx, sql, pgx.QueryExecModeExec, oid)
	if err != nil {
		return OrganizationDetail{}, wrapErr(op, b.target, err)
	}
	var d OrganizationDetail
	var logo, metadata *string
	d.Organization, err = pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (Organization, error) {
		return scanOrganization(r, &logo, &d.LogoCut, &metadata, &d.MetadataSet, &d.MetadataCut)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return OrganizationDetail{}, fmt.Errorf("db: %s on %s: %w", op, b.target, ErrNoOrganization)
	}
	if err != nil {
		return OrganizationDetail{}, wrapErr(op, b.target, err)
	}
	if logo != nil {
		d.Logo = *logo
	}
	if metadata != nil {
		d.Metadata = *metadata
	}
	return d, nil
}

// organizationID reads an organization id: a uuid, or ErrNoOrganization.
func organizationID(id string) (uuid.UUID, error) {
	// uuid.Parse also takes braced and urn: forms; an organization's URL
	// has one spelling.
	if len(id) != 36 {
		return uuid.UUID{}, ErrNoOrganization
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, ErrNoOrganization
	}
	return u, nil
}
