package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// BenchmarkLatest50 measures the dashboard's main query: the newest 50 users of
// a 50-row table, through a warm pool.
func BenchmarkLatest50(b *testing.B) {
	for _, gen := range generations {
		b.Run(string(gen), func(b *testing.B) {
			f := newFixture(b, gen)
			for i := range 50 {
				key := fmt.Sprintf("bench%02d", i)
				f.insert(b, seedUser{
					key:     key,
					email:   key + "@example.com",
					name:    key,
					created: t0.Add(time.Duration(i) * time.Minute),
					deleted: gen == authprovider.Stack && i%10 == 0,
				})
			}
			d := f.directory(b)
			ctx := context.Background()
			for b.Loop() {
				users, err := d.Latest(ctx, 50)
				if err != nil {
					b.Fatal(err)
				}
				if len(users) != 50 {
					b.Fatalf("Latest returned %d users, want 50", len(users))
				}
			}
		})
	}
}
