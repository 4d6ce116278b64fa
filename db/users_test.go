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

var generations = []authprovider.Provider{authprovider.Stack, authprovider.BetterAuth}

// seedPeople stores five users: dave and erin signed up in the same second so
// the id tie-break shows; carol is soft-deleted where the generation allows it.
func seedPeople(t *testing.T, f *fixture) {
	t.Helper()
	for _, u := range []seedUser{
		{key: "alice", email: "Alice@Example.com", name: "Alice", created: t0, verified: true, role: "admin"},
		{key: "bob", email: "bob@example.com", name: "Bob", created: t0.Add(time.Hour)},
		{key: "carol", email: "carol@example.com", name: "Carol", created: t0.Add(2 * time.Hour), deleted: f.gen == authprovider.Stack},
		{key: "erin", email: "erin@example.com", name: "Erin", created: t0.Add(3 * time.Hour)},
		{key: "dave", email: "dave@example.com", name: "Dave", created: t0.Add(3 * time.Hour)},
	} {
		f.insert(t, u)
	}
}

func ids(users []User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func TestLatest(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			d := f.directory(t)
			ctx := context.Background()

			all, err := d.Latest(ctx, 50)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{f.id("dave"), f.id("erin"), f.id("carol"), f.id("bob"), f.id("alice")}
			if got := ids(all); !slices.Equal(got, want) {
				t.Fatalf("Latest order = %v, want %v", got, want)
			}

			top, err := d.Latest(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(top); !slices.Equal(got, want[:2]) {
				t.Errorf("Latest(2) = %v, want %v", got, want[:2])
			}

			alice, carol := all[4], all[2]
			if alice.Email != "Alice@Example.com" || alice.Name != "Alice" || !alice.CreatedAt.Equal(t0) ||
				!alice.EmailVerified || alice.Provider != gen {
				t.Errorf("alice = %+v", alice)
			}
			if alice.Deleted() {
				t.Error("alice marked deleted")
			}
			switch gen {
			case authprovider.Stack:
				if !carol.Deleted() || !carol.DeletedAt.Equal(t0.Add(2*time.Hour+time.Minute)) {
					t.Errorf("carol DeletedAt = %v, want the soft-delete time", carol.DeletedAt)
				}
			case authprovider.BetterAuth:
				if carol.Deleted() {
					t.Error("better_auth user marked deleted")
				}
				if alice.Role != "admin" || alice.UpdatedAt == nil || !alice.UpdatedAt.Equal(t0) {
					t.Errorf("alice Role = %q UpdatedAt = %v, want admin and %v", alice.Role, alice.UpdatedAt, t0)
				}
			}

			if _, err := d.Latest(ctx, 0); err == nil {
				t.Error("Latest(0) succeeded; want an error for a non-positive limit")
			}
		})
	}
}

func TestLatestEmpty(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			users, err := newFixture(t, gen).directory(t).Latest(context.Background(), 10)
			if err != nil || len(users) != 0 {
				t.Errorf("Latest on an empty table = %v, %v; want no users, no error", users, err)
			}
		})
	}
}

// TestLatestStackNullColumns covers raw_json documents missing the fields the
// generated columns come from: name, email and created_at are then NULL.
func TestLatestStackNullColumns(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	seedPeople(t, f)
	f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json) VALUES ('{"id": "user_bare"}')`)
	d := f.directory(t)

	users, err := d.Latest(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	last := users[len(users)-1]
	if len(users) != 6 || last.ID != "user_bare" {
		t.Fatalf("Latest = %v, want user_bare last of 6 (no created_at sorts last)", ids(users))
	}
	if last.Email != "" || last.Name != "" || !last.CreatedAt.IsZero() || last.EmailVerified {
		t.Errorf("bare user = %+v, want empty fields", last)
	}
	got, err := d.Get(context.Background(), "user_bare")
	if err != nil || got.ID != "user_bare" {
		t.Errorf("Get(user_bare) = %+v, %v", got, err)
	}
}

func TestFind(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			d := f.directory(t)
			// Better Auth stores emails lower-cased: alice's mixed-case email
			// is found as stored, a lower-cased one however typed.
			mixedCase := map[authprovider.Provider]string{authprovider.Stack: f.id("alice")}[gen]
			tests := []struct {
				query  string
				wantID string // "" means ErrNotFound
			}{
				{query: f.id("bob"), wantID: f.id("bob")},
				{query: "bob@example.com", wantID: f.id("bob")},
				{query: "BOB@Example.com", wantID: f.id("bob")},
				{query: "Alice@Example.com", wantID: f.id("alice")},
				{query: "alice@example.com", wantID: mixedCase},
				{query: "ALICE@EXAMPLE.COM", wantID: mixedCase},
				{query: "  erin@example.com\n", wantID: f.id("erin")},
				{query: f.id("carol"), wantID: f.id("carol")},
				{query: "nobody@example.com"},
				{query: "alice@example"},
				{query: "user_nobody"},
				{query: "00000000-0000-4000-8000-0000000000ff"},
				{query: ""},
			}
			for _, tt := range tests {
				got, err := d.Find(context.Background(), tt.query)
				if tt.wantID == "" {
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("Find(%q) = %+v, %v; want ErrNotFound", tt.query, got, err)
					}
					continue
				}
				if err != nil || got.ID != tt.wantID {
					t.Errorf("Find(%q) = %q, %v; want %q", tt.query, got.ID, err, tt.wantID)
				}
			}
		})
	}
}

// TestFindStackPrefersLiveRow covers a user deleted and signed up again with
// the same email: users_sync then holds both rows.
func TestFindStackPrefersLiveRow(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	f.insert(t, seedUser{key: "frank_new", email: "frank@example.com", created: t0})
	f.insert(t, seedUser{key: "frank_old", email: "Frank@example.com", created: t0.Add(time.Hour), deleted: true})
	d := f.directory(t)

	got, err := d.Find(context.Background(), "frank@example.com")
	if err != nil || got.ID != "user_frank_new" || got.Deleted() {
		t.Errorf("Find(frank) = %+v, %v; want the live user_frank_new", got, err)
	}
	got, err = d.Find(context.Background(), "user_frank_old")
	if err != nil || got.ID != "user_frank_old" || !got.Deleted() {
		t.Errorf("Find(user_frank_old) = %+v, %v; want the deleted row by id", got, err)
	}
	// An id match wins over an email match, even a newer live one.
	f.insert(t, seedUser{key: "gina@example.com", email: "gina.old@example.com", created: t0})
	f.insert(t, seedUser{key: "gina", email: "user_gina@example.com", created: t0.Add(time.Hour)})
	got, err = d.Find(context.Background(), "USER_gina@example.com")
	if err != nil || got.ID != "user_gina" {
		t.Errorf("Find(USER_gina@example.com) = %+v, %v; want the email match user_gina (ids match exactly)", got, err)
	}
	got, err = d.Find(context.Background(), "user_gina@example.com")
	if err != nil || got.ID != "user_gina@example.com" {
		t.Errorf("Find(user_gina@example.com) = %+v, %v; want the id match", got, err)
	}
}

func TestGet(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			d := f.directory(t)
			ctx := context.Background()

			got, err := d.Get(ctx, f.id("erin"))
			if err != nil || got.ID != f.id("erin") || got.Email != "erin@example.com" {
				t.Errorf("Get(erin) = %+v, %v", got, err)
			}
			// Get matches ids only: an email is not an id.
			for _, id := range []string{"00000000-0000-4000-8000-0000000000ff", "user_nobody", "erin@example.com", ""} {
				got, err := d.Get(ctx, id)
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("Get(%q) = %+v, %v; want ErrNotFound", id, got, err)
				}
				if err != nil && strings.Contains(err.Error(), "SQLSTATE") {
					t.Errorf("Get(%q) reached the server with a bad id: %v", id, err)
				}
			}
		})
	}
}

func TestGetSeesNewUser(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	ctx := context.Background()
	d, err := newPools(t).Directory(ctx, f.connString)
	if err != nil || d.Provider() != authprovider.Stack || d.Target() != Describe(f.connString) {
		t.Fatalf("Directory = %+v, %v; want a stack directory on %s", d, err, Describe(f.connString))
	}
	if _, err := d.Get(ctx, "user_late"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before sync: err = %v, want ErrNotFound", err)
	}
	f.insert(t, seedUser{key: "late", email: "late@example.com", created: t0})
	if got, err := d.Get(ctx, "user_late"); err != nil || got.Email != "late@example.com" {
		t.Errorf("Get after sync = %+v, %v", got, err)
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		gen            authprovider.Provider
		total, deleted int
	}{
		{authprovider.Stack, 5, 1},
		{authprovider.BetterAuth, 5, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.gen), func(t *testing.T) {
			f := newFixture(t, tt.gen)
			d := f.directory(t)
			if total, deleted, err := d.Count(context.Background()); err != nil || total != 0 || deleted != 0 {
				t.Errorf("Count on empty = %d, %d, %v; want 0, 0", total, deleted, err)
			}
			seedPeople(t, f)
			total, deleted, err := d.Count(context.Background())
			if err != nil || total != tt.total || deleted != tt.deleted {
				t.Errorf("Count = %d, %d, %v; want %d, %d", total, deleted, err, tt.total, tt.deleted)
			}
		})
	}
}

// TestDirectorySchemaGone covers deleting an integration with its data while a
// directory for it is in use: the table disappears under prepared statements.
func TestDirectorySchemaGone(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			d := f.directory(t)
			ctx := context.Background()
			if _, err := d.Latest(ctx, 10); err != nil {
				t.Fatal(err)
			}
			f.exec(t, `DROP SCHEMA neon_auth CASCADE`)

			_, err := d.Latest(ctx, 10)
			if !errors.Is(err, ErrSchemaMissing) {
				t.Errorf("Latest after drop: err = %v, want ErrSchemaMissing", err)
			}
			if _, _, err := d.Count(ctx); !errors.Is(err, ErrSchemaMissing) {
				t.Errorf("Count after drop: err = %v, want ErrSchemaMissing", err)
			}
		})
	}
}

func TestDirectoryUnknownGeneration(t *testing.T) {
	f := newFixture(t, authprovider.Unknown)
	d := NewUserDirectory(f.pool(t), authprovider.Unknown)
	ctx := context.Background()
	if _, err := d.Latest(ctx, 10); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Latest: err = %v, want ErrSchemaMissing", err)
	}
	if _, err := d.Find(ctx, "a@example.com"); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Find: err = %v, want ErrSchemaMissing", err)
	}
	if _, err := d.Get(ctx, "user_a"); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Get: err = %v, want ErrSchemaMissing", err)
	}
	if _, _, err := d.Count(ctx); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Count: err = %v, want ErrSchemaMissing", err)
	}
	if _, err := OpenUserDirectory(ctx, f.pool(t)); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("OpenUserDirectory: err = %v, want ErrSchemaMissing", err)
	}
}
