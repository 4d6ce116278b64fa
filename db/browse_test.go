package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// TestBrowseWalksEveryUserOnceInOrder walks tables whose sizes (213 and 160
// rows) are not multiples of the page sizes, so that the walk forward ends
// on a short page and the walk backward on a short first page.
func TestBrowseWalksEveryUserOnceInOrder(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 160, 53) // undated rows span a page boundary
			want := referenceIDs(t, f, "")
			for _, form := range queryForms {
				t.Run(form.name, func(t *testing.T) {
					b := f.browser(t, form)
					for _, size := range []int{50, 100} {
						sameIDs(t, fmt.Sprintf("forward walk, size %d", size), walkForward(t, b, PageRequest{Size: size}), want)
						sameIDs(t, fmt.Sprintf("backward walk, size %d", size), walkBackward(t, b, PageRequest{Size: size}), want)
					}
				})
			}
		})
	}
}

func TestBrowsePagesAreStableWhileUsersArrive(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 120, 0)
			want := referenceIDs(t, f, "")
			b := f.browser(t, nil)
			ctx := context.Background()
			first, err := b.Browse(ctx, PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if first.Prev != "" || first.Next == "" {
				t.Fatalf("first page Prev=%q Next=%q", first.Prev, first.Next)
			}
			// Newer users arrive between two page loads.
			for i := range 7 {
				f.insert(t, seedUser{key: fmt.Sprint("late", i), email: fmt.Sprint("late", i, "@example.com"), name: "Late", created: t0.Add(time.Hour)})
			}
			second, err := b.Browse(ctx, PageRequest{After: first.Next})
			if err != nil {
				t.Fatal(err)
			}
			if got := rowIDs(second.Users); !slices.Equal(got, want[50:100]) {
				t.Errorf("second page after arrivals = %v, want %v", got, want[50:100])
			}
			back, err := b.Browse(ctx, PageRequest{Before: second.Prev})
			if err != nil {
				t.Fatal(err)
			}
			if got := rowIDs(back.Users); !slices.Equal(got, want[:50]) {
				t.Errorf("back from the second page = %v, want the original first page", got)
			}
			if back.Prev == "" {
				t.Error("the seven new users are before the old first page, but it has no Prev")
			}
		})
	}
}

func TestBrowseBeforeNearTheStartShowsTheRowsBefore(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 90, 0)
			want := referenceIDs(t, f, "")
			ctx := context.Background()
			for _, form := range queryForms {
				b := f.browser(t, form)
				// A cursor 10 rows in: only 10 rows precede it, fewer than a
				// page, and the page holds just those.
				p, err := b.Browse(ctx, PageRequest{Before: b.Cursor(mustRow(t, b, want[10]))})
				if err != nil {
					t.Fatal(err)
				}
				if got := rowIDs(p.Users); !slices.Equal(got, want[:10]) || p.Prev != "" || p.Next == "" {
					t.Errorf("%s: got %v (Prev %q, Next %q), want the 10 rows before", form.name, got, p.Prev, p.Next)
				}
				next, err := b.Browse(ctx, PageRequest{After: p.Next})
				if err != nil {
					t.Fatal(err)
				}
				if got := rowIDs(next.Users); !slices.Equal(got, want[10:60]) {
					t.Errorf("%s: the page after the short first page = %v, want %v", form.name, got, want[10:60])
				}
				// Nothing precedes the newest row: the first page.
				p, err = b.Browse(ctx, PageRequest{Before: b.Cursor(mustRow(t, b, want[0]))})
				if err != nil {
					t.Fatal(err)
				}
				if got := rowIDs(p.Users); !slices.Equal(got, want[:50]) || p.Prev != "" || p.Next == "" {
					t.Errorf("%s: before the newest row: got %v (Prev %q, Next %q), want the first page", form.name, got, p.Prev, p.Next)
				}
			}
		})
	}
}

func TestBrowseAtJumpsToADate(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 150, 4)
			for _, form := range queryForms {
				t.Run(form.name, func(t *testing.T) {
					b := f.browser(t, form)
					at := t0.Add(20*time.Second + 500*time.Millisecond) // users 60..62 signed up at +20s
					want := referenceIDs(t, f, specs[gen].created+" <= $1 OR "+specs[gen].created+" IS NULL", at)
					sameIDs(t, "walk from At", walkForward(t, b, PageRequest{At: at}), want)
					p, err := b.Browse(context.Background(), PageRequest{At: at})
					if err != nil {
						t.Fatal(err)
					}
					if !p.Users[0].CreatedAt.Equal(t0.Add(20 * time.Second)) {
						t.Errorf("first user at %v, want the newest at or before %v", p.Users[0].CreatedAt, at)
					}
					back, err := b.Browse(context.Background(), PageRequest{Before: p.Prev})
					if err != nil {
						t.Fatal(err)
					}
					all := referenceIDs(t, f, "")
					i := slices.Index(all, p.Users[0].ID)
					if got := rowIDs(back.Users); !slices.Equal(got, all[i-50:i]) {
						t.Errorf("page before the jump = %v, want %v", got, all[i-50:i])
					}
				})
			}
		})
	}
}

func TestBrowseRowFields(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			p, err := f.browser(t, nil).Browse(context.Background(), PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			// dave and erin signed up in the same second: the larger id first.
			want := []string{f.id("erin"), f.id("dave"), f.id("carol"), f.id("bob"), f.id("alice")}
			if got := rowIDs(p.Users); !slices.Equal(got, want) {
				t.Fatalf("order = %v, want %v", got, want)
			}
			alice, carol := p.Users[4], p.Users[2]
			if alice.Email != "Alice@Example.com" || alice.Name != "Alice" || !alice.CreatedAt.Equal(t0) ||
				!alice.EmailVerified || alice.Provider != gen || p.Next != "" || p.Prev != "" {
				t.Errorf("alice = %+v, page links %q %q", alice, p.Prev, p.Next)
			}
			if (gen == authprovider.Stack) != carol.Deleted() {
				t.Errorf("carol deleted = %v", carol.Deleted())
			}
			if gen == authprovider.BetterAuth && alice.Role != "admin" {
				t.Errorf("alice role = %q", alice.Role)
			}
		})
	}
}

func TestBrowseUndatedAndJSONFields(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json) VALUES
 ('{"id": "u1", "primary_email": "a@x", "signed_up_at_millis": 1772366400000, "last_active_at_millis": 1772366460000.5, "profile_image_url": "https://img/a"}'),
 ('{"id": "u2", "primary_email": "b@x", "signed_up_at_millis": 1772366400000, "last_active_at_millis": "garbage"}'),
 ('{"id": "u3"}')`)
	p, err := f.browser(t, nil).Browse(context.Background(), PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowIDs(p.Users); !slices.Equal(got, []string{"u2", "u1", "u3"}) {
		t.Fatalf("order = %v, want u2 u1 then the undated u3", got)
	}
	u1, u2, u3 := p.Users[1], p.Users[0], p.Users[2]
	if u1.LastActiveAt == nil || !u1.LastActiveAt.Equal(time.UnixMilli(1772366460000)) || u1.ImageURL != "https://img/a" {
		t.Errorf("u1 = %+v", u1)
	}
	if u2.LastActiveAt != nil {
		t.Errorf("unparsable last_active_at_millis gave %v", u2.LastActiveAt)
	}
	if !u3.CreatedAt.IsZero() || !u3.undated || u3.Email != "" || u3.Name != "" {
		t.Errorf("u3 = %+v", u3)
	}
}

func mustRow(t testing.TB, b *UserBrowser, id string) UserRow {
	t.Helper()
	d, err := b.Detail(context.Background(), id)
	if err != nil {
		t.Fatalf("Detail(%s): %v", id, err)
	}
	return d.UserRow
}

func TestBrowseWalksFilteredPages(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 400, 60)
			verified := map[authprovider.Provider]string{
				authprovider.Stack:      "raw_json ->> 'primary_email_verified' = 'true'",
				authprovider.BetterAuth: `"emailVerified"`,
			}[gen]
			cases := []struct {
				filter Filter
				where  string
			}{
				{Filter{Search: "1"}, "email LIKE '%1%' OR name LIKE '%1%'"},
				{Filter{Search: "PERSON 39"}, "name LIKE 'Person 39%'"},
				{Filter{Status: StatusVerified}, verified},
				{Filter{Status: StatusUnverified, Search: "2"}, "NOT coalesce(" + verified + ", false) AND (email LIKE '%2%' OR name LIKE '%2%')"},
				{Filter{Email: "P77@example.com"}, "email = 'p77@example.com'"},
			}
			for _, c := range cases {
				want := referenceIDs(t, f, c.where)
				for _, form := range queryForms {
					b := f.browser(t, form)
					what := fmt.Sprintf("%s, %+v", form.name, c.filter)
					sameIDs(t, what+" forward", walkForward(t, b, PageRequest{Filter: c.filter}), want)
					sameIDs(t, what+" backward", walkBackward(t, b, PageRequest{Filter: c.filter}), want)
				}
			}
		})
	}
}

func TestPoolsBrowser(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			cache := NewCache(0)
			b, err := newPools(t).Browser(context.Background(), f.connString, cache)
			if err != nil {
				t.Fatal(err)
			}
			if b.Provider() != gen || b.cache != cache || !strings.HasPrefix(b.Target(), "127.0.0.1:5432/test_") {
				t.Errorf("browser = %s %s", b.Provider(), b.Target())
			}
			p, err := b.Browse(context.Background(), PageRequest{Size: 100})
			if err != nil || len(p.Users) != 5 || p.Size != 100 {
				t.Errorf("Browse = %d users (size %d), %v", len(p.Users), p.Size, err)
			}
		})
	}
}

// TestBrowseByCursorReportsQueryErrors: a page read by cursor whose query
// fails is an error, never an empty page.
func TestBrowseByCursorReportsQueryErrors(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 120, 0)
			b := f.browser(t, queryForms[0])
			first, err := b.Browse(context.Background(), PageRequest{})
			if err != nil || first.Next == "" {
				t.Fatalf("first page: next %q, %v", first.Next, err)
			}
			// The table goes away between two pages.
			f.exec(t, "DROP SCHEMA neon_auth CASCADE")
			for name, req := range map[string]PageRequest{"after": {After: first.Next}, "before": {Before: first.Next}} {
				p, err := b.Browse(context.Background(), req)
				if err == nil {
					t.Errorf("%s: a failed page read gave %d rows and no error", name, len(p.Users))
				}
			}
		})
	}
}
