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

func columnNames(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func column(d UserDetail, name string) Column {
	for _, c := range d.Columns {
		if c.Name == name {
			return c
		}
	}
	return Column{Name: name, Null: true}
}

func TestDetailStack(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json, updated_at, deleted_at) VALUES
 ('{"id": "u1", "display_name": "Zoë \"Z\" O''Neil\\", "primary_email": "z@x", "primary_email_verified": true,
    "signed_up_at_millis": 1772366400000, "last_active_at_millis": 1772370000000,
    "server_metadata": {"plan": "pro", "tags": ["a", "b"]}}',
  '2026-03-01 13:30:00+00', '2026-03-01 14:00:00+00')`)
	d, err := f.browser(t, nil).Detail(context.Background(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"raw_json", "id", "name", "email", "created_at", "updated_at", "deleted_at"}
	if got := columnNames(d.Columns); !slices.Equal(got, want) {
		t.Errorf("columns = %v, want the table's, in order: %v", got, want)
	}
	if c := column(d, "name"); c.Value != `Zoë "Z" O'Neil\` || c.Null {
		t.Errorf("name column = %+v", c)
	}
	if !strings.Contains(d.RawJSON, "\n  \"server_metadata\": {\n    \"plan\": \"pro\",") {
		t.Errorf("raw_json is not indented:\n%s", d.RawJSON)
	}
	if d.Name != `Zoë "Z" O'Neil\` || !d.EmailVerified || !d.Deleted() {
		t.Errorf("user = %+v", d.UserRow)
	}
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	wantTimeline := []TimelineEvent{
		{"created", created}, {"last active", created.Add(time.Hour)},
		{"updated", created.Add(90 * time.Minute)}, {"deleted", created.Add(2 * time.Hour)},
	}
	if !slices.EqualFunc(d.Timeline, wantTimeline, func(a, b TimelineEvent) bool { return a.Kind == b.Kind && a.At.Equal(b.At) }) {
		t.Errorf("timeline = %v, want %v", d.Timeline, wantTimeline)
	}
}

func TestDetailBetterAuth(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	seedPeople(t, f)
	f.exec(t, `UPDATE neon_auth."user" SET banned = true, "banReason" = 'spam', "banExpires" = $2, "updatedAt" = $3 WHERE id = $1`,
		f.id("bob"), t0.Add(48*time.Hour), t0.Add(2*time.Hour))
	b := f.browser(t, nil)
	d, err := b.Detail(context.Background(), strings.ToUpper(f.id("bob")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt", "role", "banned", "banReason", "banExpires"}
	if got := columnNames(d.Columns); !slices.Equal(got, want) {
		t.Errorf("columns = %v, want %v", got, want)
	}
	if c := column(d, "image"); !c.Null {
		t.Errorf("image = %+v, want NULL", c)
	}
	if c := column(d, "banReason"); c.Value != "spam" {
		t.Errorf("banReason = %+v", c)
	}
	if d.RawJSON != "" || !d.Banned || d.ID != f.id("bob") {
		t.Errorf("detail = %+v", d)
	}
	kinds := make([]string, len(d.Timeline))
	for i, e := range d.Timeline {
		kinds[i] = e.Kind
	}
	if !slices.Equal(kinds, []string{"created", "updated", "ban expires"}) || !d.Timeline[2].At.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("timeline = %v", d.Timeline)
	}
}

func TestDetailMissingAndHostile(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedPeople(t, f)
			b := f.browser(t, nil)
			ctx := context.Background()
			for _, id := range []string{"user_nobody", "00000000-0000-4000-8000-000000000fff", "", "' OR 1=1 --"} {
				if _, err := b.Detail(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Errorf("Detail(%q) = %v, want ErrNotFound", id, err)
				}
			}
			_, err := b.Detail(ctx, "a\x00b")
			wantInputError(t, err, "id")
			_, err = b.Detail(ctx, strings.Repeat("x", 10<<10))
			wantInputError(t, err, "id")
		})
	}
}
