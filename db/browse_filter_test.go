package db

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// seedOddPeople stores users whose names and emails hold LIKE pattern
// characters, quotes and backslashes, and a 10 KB name.
func seedOddPeople(t *testing.T, f *fixture) {
	t.Helper()
	long := strings.Repeat("n", 10<<10) + "NEEDLE"
	for i, u := range []seedUser{
		{key: "pct", email: "pct@example.com", name: "Get 50% off", role: "admin,user"},
		{key: "five", email: "five@example.com", name: "Get 500 off", role: "user"},
		{key: "under", email: "a_b@example.com", name: "Under Score"},
		{key: "nounder", email: "axb@example.com", name: "No Score", role: "admin"},
		{key: "quote", email: "o'brien@example.com", name: `Back\slash "Q"`, role: "superadmin"},
		{key: "long", email: "long@example.com", name: long, verified: true},
		{key: "upper", email: "MiXeD@Example.COM", name: "Ünïcode Ünit", verified: true, deleted: f.gen == authprovider.Stack},
	} {
		u.created = t0.Add(time.Duration(i) * time.Minute)
		f.insert(t, u)
	}
}

func TestBrowseFilters(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedOddPeople(t, f)
			keys := func(ks ...string) []string {
				out := make([]string, len(ks))
				for i, k := range ks {
					out[i] = f.id(k)
				}
				return out
			}
			cases := []struct {
				name   string
				filter Filter
				want   []string
				only   authprovider.Provider
			}{
				{"percent is literal", Filter{Search: "50%"}, keys("pct"), ""},
				{"underscore is literal", Filter{Search: "a_b"}, keys("under"), ""},
				{"backslash is literal", Filter{Search: `k\s`}, keys("quote"), ""},
				{"quote", Filter{Search: "o'b"}, keys("quote"), ""},
				{"case-insensitive email", Filter{Search: "mixed@EXAMPLE"}, keys("upper"), ""},
				{"case-insensitive name, non-ASCII", Filter{Search: "üNÏ"}, keys("upper"), ""},
				{"inside a 10 KB name", Filter{Search: "needle"}, keys("long"), ""},
				{"trimmed", Filter{Search: "  score \t"}, keys("nounder", "under"), ""},
				{"no match", Filter{Search: "zzz"}, nil, ""},
				{"exact email ignores case", Filter{Email: "mixed@example.com"}, keys("upper"), authprovider.Stack},
				// Better Auth stores emails lower-cased and looks them up through
				// its unique index, as typed or lower-cased.
				{"exact email as stored", Filter{Email: "MiXeD@Example.COM"}, keys("upper"), ""},
				{"exact email lower-cased", Filter{Email: "A_B@EXAMPLE.COM"}, keys("under"), ""},
				{"exact email stored mixed-case", Filter{Email: "mixed@example.com"}, nil, authprovider.BetterAuth},
				{"exact email is not a substring", Filter{Email: "ixed@example.com"}, nil, ""},
				{"exact id", Filter{ID: f.id("five")}, keys("five"), ""},
				{"id and search", Filter{ID: f.id("five"), Search: "500"}, keys("five"), ""},
				{"id and other search", Filter{ID: f.id("five"), Search: "50%"}, nil, ""},
				{"verified", Filter{Status: StatusVerified}, keys("upper", "long"), ""},
				{"unverified", Filter{Status: StatusUnverified}, keys("quote", "nounder", "under", "five", "pct"), ""},
				{"deleted", Filter{Status: StatusDeleted}, keys("upper"), authprovider.Stack},
				{"active and search", Filter{Status: StatusActive, Search: "example"}, keys("long", "quote", "nounder", "under", "five", "pct"), authprovider.Stack},
				{"role listed with others", Filter{Role: "admin"}, keys("nounder", "pct"), authprovider.BetterAuth},
				{"role is not a substring", Filter{Role: "super"}, nil, authprovider.BetterAuth},
				{"role and search", Filter{Role: "user", Search: "500"}, keys("five"), authprovider.BetterAuth},
			}
			for _, form := range queryForms {
				b := f.browser(t, form)
				for _, c := range cases {
					if c.only != "" && c.only != gen {
						continue
					}
					p, err := b.Browse(context.Background(), PageRequest{Filter: c.filter})
					if err != nil {
						t.Fatalf("%s/%s: %v", form.name, c.name, err)
					}
					if got := rowIDs(p.Users); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
						t.Errorf("%s/%s: got %v, want %v", form.name, c.name, got, c.want)
					}
				}
			}
		})
	}
}

func TestBanned(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	seedPeople(t, f)
	f.exec(t, `UPDATE neon_auth."user" SET banned = true, "banReason" = 'spam' WHERE id = $1`, f.id("bob"))
	p, err := f.browser(t, nil).Browse(context.Background(), PageRequest{Filter: Filter{Status: StatusBanned}})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowIDs(p.Users); !slices.Equal(got, []string{f.id("bob")}) || !p.Users[0].Banned {
		t.Errorf("banned = %v", got)
	}
}

func TestParseSearch(t *testing.T) {
	for q, want := range map[string]Filter{
		"  6F9619FF-8B86-D011-B42D-00C04FC964FF ": {ID: "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		"6f9619ff8b86d011b42d00c04fc964ff":        {Search: "6f9619ff8b86d011b42d00c04fc964ff"},
		"alice@example.com":                       {Search: "alice@example.com"},
		" 50% ":                                   {Search: "50%"},
	} {
		if got := ParseSearch(q); got != want {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", q, got, want)
		}
	}
}

type hostileCase struct {
	name  string
	req   PageRequest
	field string
}

func TestBrowseRejectsHostileInput(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			b := f.browser(t, nil)
			other := authprovider.BetterAuth
			if gen == authprovider.BetterAuth {
				other = authprovider.Stack
			}
			at := t0
			cases := []hostileCase{
				{"NUL in search", PageRequest{Filter: Filter{Search: "a\x00b"}}, "q"},
				{"invalid UTF-8 in search", PageRequest{Filter: Filter{Search: "\xff\xfe"}}, "q"},
				{"10 KB search", PageRequest{Filter: Filter{Search: strings.Repeat("%", 10<<10)}}, "q"},
				{"NUL in email", PageRequest{Filter: Filter{Email: "a@b\x00"}}, "email"},
				{"10 KB email", PageRequest{Filter: Filter{Email: strings.Repeat("e", 10<<10)}}, "email"},
				{"NUL in id", PageRequest{Filter: Filter{ID: "\x00"}}, "id"},
				{"10 KB id", PageRequest{Filter: Filter{ID: strings.Repeat("i", 10<<10)}}, "id"},
				{"unknown status", PageRequest{Filter: Filter{Status: "gone"}}, "status"},
				{"NUL in role", PageRequest{Filter: Filter{Role: "a\x00"}}, "role"},
				{"page size 7", PageRequest{Size: 7}, "size"},
				{"page size 1000", PageRequest{Size: 1000}, "size"},
				{"after and before", PageRequest{After: "x", Before: "y"}, "cursor"},
				{"after and last", PageRequest{After: "x", Last: true}, "cursor"},
				{"garbage cursor", PageRequest{After: "not a cursor"}, "cursor"},
				{"10 KB cursor", PageRequest{Before: strings.Repeat("A", 10<<10)}, "cursor"},
				{"cursor of the other table", PageRequest{After: encodeCursor(other, position{created: &at, id: "00000000-0000-4000-8000-00000000000a"})}, "cursor"},
				{"year 10000", PageRequest{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "at"},
			}
			switch gen {
			case authprovider.Stack:
				cases = append(cases,
					hostileCase{"role on users_sync", PageRequest{Filter: Filter{Role: "admin"}}, "role"},
					hostileCase{"banned on users_sync", PageRequest{Filter: Filter{Status: StatusBanned}}, "status"})
			case authprovider.BetterAuth:
				cases = append(cases, hostileCase{"non-uuid id", PageRequest{Filter: Filter{ID: "user_alice"}}, "id"})
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := b.Browse(context.Background(), c.req)
					wantInputError(t, err, c.field)
				})
			}
		})
	}
}

func TestBrowseWithoutTable(t *testing.T) {
	f := newFixture(t, authprovider.Unknown)
	b := NewUserBrowser(f.pool(t), authprovider.Unknown, nil)
	ctx := context.Background()
	if _, err := b.Browse(ctx, PageRequest{}); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Browse = %v, want ErrSchemaMissing", err)
	}
	if _, err := b.Count(ctx, Filter{}, false); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Count = %v, want ErrSchemaMissing", err)
	}
	if _, err := b.AdviseIndex(ctx); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("AdviseIndex = %v, want ErrSchemaMissing", err)
	}
	if _, err := OpenUserBrowser(ctx, f.pool(t), nil); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("OpenUserBrowser = %v, want ErrSchemaMissing", err)
	}
}
