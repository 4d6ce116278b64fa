package db

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

func day(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }

func TestSignups(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			for i, at := range []time.Time{day(2, 26, 1), day(2, 26, 23), day(3, 1, 12), day(3, 2, 0), day(3, 2, 9), day(3, 3, 23), day(3, 4, 0)} {
				f.insert(t, seedUser{key: fmt.Sprint("u", i), email: fmt.Sprint("u", i, "@x"), name: "U", created: at})
			}
			deletions := int64(0)
			if gen == authprovider.Stack {
				f.exec(t, `UPDATE neon_auth.users_sync SET deleted_at = $2 WHERE id = $1`, f.id("u0"), day(3, 2, 10))
				deletions = 1
			}
			b := f.browser(t, nil)
			ctx := context.Background()
			from, to := day(2, 25, 0), day(3, 4, 0)

			daily, err := b.Signups(ctx, from, to, BucketDay)
			if err != nil {
				t.Fatal(err)
			}
			want := []SignupPoint{
				{day(2, 25, 0), 0, 0}, {day(2, 26, 0), 2, 0}, {day(2, 27, 0), 0, 0}, {day(2, 28, 0), 0, 0},
				{day(3, 1, 0), 1, 0}, {day(3, 2, 0), 2, deletions}, {day(3, 3, 0), 1, 0},
			}
			if !slices.Equal(daily, want) {
				t.Errorf("daily =\n%v\nwant\n%v", daily, want)
			}
			weekly, err := b.Signups(ctx, from, to, BucketWeek)
			if err != nil {
				t.Fatal(err)
			}
			// 2026-02-23 and 2026-03-02 are Mondays.
			wantWeeks := []SignupPoint{{day(2, 23, 0), 3, 0}, {day(3, 2, 0), 3, deletions}}
			if !slices.Equal(weekly, wantWeeks) {
				t.Errorf("weekly = %v, want %v", weekly, wantWeeks)
			}
		})
	}
}

func TestSignupsAreCachedPerRange(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	f.insert(t, seedUser{key: "a", email: "a@x", name: "A", created: day(3, 1, 12)})
	b := f.browser(t, nil)
	now := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	b.cache.now = func() time.Time { return now }
	ctx := context.Background()
	signups := func(from time.Time) int64 {
		t.Helper()
		pts, err := b.Signups(ctx, from, day(3, 2, 0), BucketDay)
		if err != nil {
			t.Fatal(err)
		}
		return pts[len(pts)-1].Signups
	}
	if n := signups(day(3, 1, 0)); n != 1 {
		t.Fatalf("signups = %d, want 1", n)
	}
	f.insert(t, seedUser{key: "b", email: "b@x", name: "B", created: day(3, 1, 13)})
	if n := signups(day(3, 1, 0)); n != 1 {
		t.Errorf("within the TTL: %d, want the cached 1", n)
	}
	if n := signups(day(2, 28, 0)); n != 2 {
		t.Errorf("another range: %d, want 2", n)
	}
	now = now.Add(DefaultCacheTTL)
	if n := signups(day(3, 1, 0)); n != 2 {
		t.Errorf("after the TTL: %d, want 2", n)
	}
}

func TestSignupsRejectsBadRanges(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	b := f.browser(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		from, to time.Time
		bucket   Bucket
		field    string
	}{
		{day(3, 2, 0), day(3, 1, 0), BucketDay, "range"},
		{day(3, 1, 0), day(3, 1, 0), BucketDay, "range"},
		{day(3, 1, 0), day(3, 1, 0).AddDate(3, 0, 0), BucketDay, "range"},
		{time.Time{}, day(3, 1, 0), BucketWeek, "range"},
		{day(3, 1, 0), day(3, 2, 0), "month", "bucket"},
	} {
		_, err := b.Signups(ctx, c.from, c.to, c.bucket)
		wantInputError(t, err, c.field)
	}
	if _, err := b.Signups(ctx, day(3, 1, 0), day(3, 1, 0).AddDate(3, 0, 0), BucketWeek); err != nil {
		t.Errorf("three years by week: %v", err)
	}
}
