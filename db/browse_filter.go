package db

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// Status narrows a browse to users in one state. Which states a table knows
// depends on its generation: see Statuses.
type Status string

const (
	// StatusAny applies no status filter.
	StatusAny Status = ""
	// StatusActive keeps users_sync users that are not soft-deleted.
	StatusActive Status = "active"
	// StatusDeleted keeps users_sync users Neon soft-deleted.
	StatusDeleted Status = "deleted"
	// StatusVerified keeps users whose (primary) email is verified.
	StatusVerified Status = "verified"
	// StatusUnverified keeps users whose (primary) email is not verified.
	StatusUnverified Status = "unverified"
	// StatusBanned keeps better_auth users with banned set.
	StatusBanned Status = "banned"
)

// Statuses lists the status filters a generation's table supports, in the
// order a status menu should show them.
func Statuses(g authprovider.Provider) []Status {
	switch g {
	case authprovider.Stack:
		return []Status{StatusActive, StatusDeleted, StatusVerified, StatusUnverified}
	case authprovider.BetterAuth:
		return []Status{StatusVerified, StatusUnverified, StatusBanned}
	}
	return nil
}

// Limits on filter values. They are far above any real email, name or id,
// and keep a pasted megabyte from reaching the server.
const (
	maxSearchLen = 256
	maxEmailLen  = 320
	maxIDLen     = 256
	maxRoleLen   = 64
)

// Filter selects the users a browse, count or export covers. Set fields are
// combined with AND; the zero Filter selects everyone.
type Filter struct {
	// Search matches a case-insensitive substring of the email or the name;
	// % and _ match themselves.
	Search string
	// ID is an exact user id, looked up through the primary key and never
	// combined with a scan.
	ID string
	// Email is an exact email address: compared ignoring case on
	// users_sync; on Better Auth, which stores emails lower-cased, matched
	// as typed or lower-cased, through its unique email index.
	Email string
	// Status is one of Statuses(generation), or StatusAny.
	Status Status
	// Role is an exact Better Auth role; a user whose role column lists
	// several roles ("admin,user") matches each of them. better_auth only.
	Role string
}

// ParseSearch turns what someone typed into one search box into a Filter: a
// uuid becomes an exact id lookup (Neon Auth ids are uuids, and a primary
// key lookup answers in a millisecond where a substring scan reads the whole
// table); anything else becomes a substring search.
func ParseSearch(q string) Filter {
	q = strings.TrimSpace(q)
	if u, err := uuid.Parse(q); err == nil && len(q) == 36 {
		return Filter{ID: u.String()}
	}
	return Filter{Search: q}
}

// normalize trims the text fields and checks every field against what g's
// table supports, returning an *InputError for the first bad one.
func (f Filter) normalize(g authprovider.Provider) (Filter, error) {
	f.Search = strings.TrimSpace(f.Search)
	f.ID = strings.TrimSpace(f.ID)
	f.Email = strings.TrimSpace(f.Email)
	f.Role = strings.TrimSpace(f.Role)
	for _, c := range []struct {
		field, value string
		max          int
	}{{"q", f.Search, maxSearchLen}, {"id", f.ID, maxIDLen}, {"email", f.Email, maxEmailLen}, {"role", f.Role, maxRoleLen}} {
		if err := checkText(c.field, c.value, c.max); err != nil {
			return Filter{}, err
		}
	}
	if f.ID != "" && g == authprovider.BetterAuth {
		u, err := uuid.Parse(f.ID)
		if err != nil {
			return Filter{}, inputErr("id", "is not a uuid; Better Auth user ids are uuids")
		}
		f.ID = u.String()
	}
	if f.Status != StatusAny && !slices.Contains(Statuses(g), f.Status) {
		return Filter{}, inputErr("status", "must be one of %s for this user table", statusList(g))
	}
	if f.Role != "" && g != authprovider.BetterAuth {
		return Filter{}, inputErr("role", "is only kept by Better Auth user tables")
	}
	return f, nil
}

// key identifies the filter in cache keys; %q keeps fields from running together.
func (f Filter) key() string {
	return fmt.Sprintf("%q|%q|%q|%q|%q", f.Search, f.ID, f.Email, f.Status, f.Role)
}

func (f Filter) empty() bool { return f == Filter{} }

// unpredictable reports whether the planner cannot estimate how many rows
// f selects: it has no statistics for substring, role and json-derived
// predicates and guesses that 0.5% of rows match. (Browse reads an email
// filter through the email index, never the browse order.) Walking the
// browse-order index with such a filter is fast when many rows match and
// reads the whole table through the index (seconds on a million rows) when
// almost none do, so the browser walks only a bounded window of the index
// before switching to a scan (see pager.readWindowed).
func (f Filter) unpredictable(g authprovider.Provider) bool {
	if f.Search != "" || f.Role != "" {
		return true
	}
	return g == authprovider.Stack && (f.Status == StatusVerified || f.Status == StatusUnverified)
}

func statusList(g authprovider.Provider) string {
	var names []string
	for _, s := range Statuses(g) {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}
