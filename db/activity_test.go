package db

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// day0 is a Monday, so that its ISO week starts on it.
var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// session stores a session of the user key, created and last refreshed at
// the times given.
func (f *fixture) session(t testing.TB, key string, created, updated time.Time) {
	t.Helper()
	f.exec(t, `INSERT INTO neon_auth.session (id, "expiresAt", token, "createdAt", "updatedAt", "userId")
VALUES (gen_random_uuid(), $1::timestamptz + interval '7 days', gen_random_uuid()::text, $1, $2, $3)`, created, updated, f.id(key))
}

// account links the user key to provider, last refreshed at updated.
func (f *fixture) account(t testing.TB, key, provider string, updated time.Time) {
	t.Helper()
	f.exec(t, `INSERT INTO neon_auth.account (id, "accountId", "providerId", "userId", "createdAt", "updatedAt")
VALUES (gen_random_uuid(), $1::text, $2, $1::uuid, $3, $3)`, f.id(key), provider, updated)
}

func activityFixture(t *testing.T) *fixture {
	f := newFixture(t, authprovider.BetterAuth)
	for i, key := range []string{"alice", "bob", "carol", "dave"} {
		f.insert(t, seedUser{key: key, email: key + "@example.com", name: key, created: t0.Add(-time.Duration(i) * time.Hour)})
	}
	return f
}

func TestLastActiveIsTheLatestSessionRefresh(t *testing.T) {
	f := activityFixture(t)
	f.session(t, "alice", day0, day0.Add(5*time.Hour))
	f.session(t, "alice", day0.Add(time.Hour), day0.Add(2*time.Hour))
	f.session(t, "bob", day0, day0.Add(time.Minute))
	ctx := context.Background()
	for _, form := range queryForms {
		b := f.browser(t, form)
		p, err := b.Browse(ctx, PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]*time.Time{}
		for _, u := range p.Users {
			got[u.Email] = u.LastActiveAt
		}
		if a := got["alice@example.com"]; a == nil || !a.Equal(day0.Add(5*time.Hour)) {
			t.Errorf("%s: alice last active %v, want her later session's updatedAt %v", form.name, a, day0.Add(5*time.Hour))
		}
		if b := got["bob@example.com"]; b == nil || !b.Equal(day0.Add(time.Minute)) {
			t.Errorf("%s: bob last active %v", form.name, b)
		}
		if c := got["carol@example.com"]; c != nil {
			t.Errorf("%s: carol has no session but last active %v", form.name, c)
		}
	}
}

func TestLastActiveIsNotExported(t *testing.T) {
	for _, c := range betterAuthColumns {
		if c.name == "last_active_at" && c.kind != notExported {
			t.Errorf("last_active_at is exported: an export would probe the sessions once per user")
		}
	}
}

func activeCounts(t *testing.T, b *UserBrowser, from, to time.Time, bucket Bucket) ([]time.Time, []int64) {
	t.Helper()
	a, err := b.ActiveUsers(context.Background(), from, to, bucket)
	if err != nil {
		t.Fatalf("ActiveUsers %s: %v", bucket, err)
	}
	var starts []time.Time
	var counts []int64
	for _, p := range a.Points {
		starts, counts = append(starts, p.Start), append(counts, p.Active)
	}
	if a.At.IsZero() || a.Took <= 0 {
		t.Errorf("ActiveUsers %s: no cost recorded: %+v", bucket, a)
	}
	return starts, counts
}

func TestActiveUsersPerBucket(t *testing.T) {
	f := activityFixture(t)
	// alice: two sessions on day 0 (one user, counted once), refreshed on
	// day 1. bob: created on day 0, refreshed on day 2. carol: day 1 only.
	// dave: before the range, refreshed after it.
	f.session(t, "alice", day0.Add(1*time.Hour), day0.Add(2*time.Hour))
	f.session(t, "alice", day0.Add(3*time.Hour), day0.Add(26*time.Hour))
	f.session(t, "bob", day0.Add(4*time.Hour), day0.Add(50*time.Hour))
	f.session(t, "carol", day0.Add(30*time.Hour), day0.Add(31*time.Hour))
	f.session(t, "dave", day0.AddDate(0, 0, -40), day0.AddDate(0, 0, 30))
	b := f.browser(t, nil)
	to := day0.AddDate(0, 0, 3)

	starts, counts := activeCounts(t, b, day0, to, BucketDay)
	if want := []int64{2, 2, 1}; !slices.Equal(counts, want) {
		t.Errorf("daily active users = %v, want %v", counts, want)
	}
	if !starts[0].Equal(day0) || !starts[2].Equal(day0.AddDate(0, 0, 2)) {
		t.Errorf("day buckets start %v", starts)
	}
	// From the middle of the week: the week is counted whole.
	starts, counts = activeCounts(t, b, day0.AddDate(0, 0, 2), to, BucketWeek)
	if !slices.Equal(counts, []int64{3}) || !starts[0].Equal(day0) {
		t.Errorf("weekly active users = %v from %v, want [3] from %v", counts, starts, day0)
	}
	starts, counts = activeCounts(t, b, day0, to, BucketMonth)
	if !slices.Equal(counts, []int64{3}) || !starts[0].Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("monthly active users = %v from %v, want [3] from March 1", counts, starts)
	}
	// dave's refresh falls in the next month.
	_, counts = activeCounts(t, b, day0, day0.AddDate(0, 1, 0), BucketMonth)
	if !slices.Equal(counts, []int64{3, 1}) {
		t.Errorf("monthly active users over two months = %v, want [3 1]", counts)
	}
}

func TestSignInsByProvider(t *testing.T) {
	f := activityFixture(t)
	at := day0.Add(10 * time.Hour)
	// alice signs in with Google (her account refreshed two seconds
	// before), then later that day with her password.
	f.account(t, "alice", "google", at.Add(-2*time.Second))
	f.account(t, "alice", "credential", at.Add(-time.Second))
	f.session(t, "alice", at, at)
	f.session(t, "alice", at.Add(3*time.Hour), at.Add(3*time.Hour))
	// bob: GitHub refreshed an hour before: not this sign-in's.
	f.account(t, "bob", "github", at.Add(-time.Hour))
	f.session(t, "bob", at, at)
	// carol: GitHub the next day; dave: Google refreshed just after his
	// session was created, which the rule does not count.
	f.account(t, "carol", "github", at.Add(24*time.Hour-500*time.Millisecond))
	f.session(t, "carol", at.Add(24*time.Hour), at.Add(24*time.Hour))
	f.account(t, "dave", "google", at.Add(time.Second))
	f.session(t, "dave", at, at)
	b := f.browser(t, nil)
	s, err := b.SignIns(context.Background(), day0, day0.AddDate(0, 0, 2), BucketDay)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{SignInEmail, "github", "google"}; !slices.Equal(s.Providers, want) {
		t.Fatalf("providers = %v, want %v", s.Providers, want)
	}
	if !slices.Equal(s.Totals, []int64{3, 1, 1}) {
		t.Errorf("totals = %v, want [3 1 1]", s.Totals)
	}
	if len(s.Points) != 2 || !slices.Equal(s.Points[0].Counts, []int64{3, 0, 1}) || !slices.Equal(s.Points[1].Counts, []int64{0, 1, 0}) {
		t.Errorf("points = %+v", s.Points)
	}
	if s.Took <= 0 || s.At.IsZero() {
		t.Errorf("no cost recorded: %+v", s)
	}
}

func TestRankProvidersKeepsTheTopAndOther(t *testing.T) {
	totals := map[string]int64{}
	for i, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		totals[p] = int64(100 - i)
	}
	got := rankProviders(totals)
	if want := []string{"a", "b", "c", "d", "e", "f", "g", SignInOther}; !slices.Equal(got, want) {
		t.Errorf("rankProviders = %v, want %v", got, want)
	}
}

func TestActivityRefusesBadInputAndStack(t *testing.T) {
	f := activityFixture(t)
	b := f.browser(t, nil)
	ctx := context.Background()
	_, err := b.ActiveUsers(ctx, day0, day0.AddDate(0, 0, 1), Bucket("year"))
	wantInputError(t, err, "bucket")
	_, err = b.SignIns(ctx, day0, day0, BucketDay)
	wantInputError(t, err, "range")
	_, err = b.SignIns(ctx, day0, day0.AddDate(5, 0, 0), BucketDay)
	wantInputError(t, err, "range")

	s := newFixture(t, authprovider.Stack)
	if _, err := s.browser(t, nil).ActiveUsers(ctx, day0, day0.AddDate(0, 0, 1), BucketDay); !errors.Is(err, ErrSchemaMissing) {
		t.Errorf("Stack Auth active users: %v, want ErrSchemaMissing", err)
	}
}
