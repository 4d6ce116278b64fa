package db

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestForgetTableTellsOtherCaches: what one cache forgets of a table, a
// cache told through OnForget and ForgetRemote forgets too, and only that
// table; the prefix passed between them holds no password.
func TestForgetTableTellsOtherCaches(t *testing.T) {
	ctx := context.Background()
	here, there := NewCache(time.Minute), NewCache(time.Minute)
	var heard []string
	here.OnForget(func(prefix string) { heard = append(heard, prefix); there.ForgetRemote(prefix) })
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	const table = "app@db.example:5432/neondb|users|count"
	const other = "app@db.example:5432/otherdb|users|count"
	for _, c := range []*Cache{here, there} {
		for _, k := range []string{table, other} {
			if _, _, err := cached(ctx, c, k, load); err != nil {
				t.Fatal(err)
			}
		}
	}
	here.ForgetTable("postgres://app:s3cret-password@db.example:5432/neondb?sslmode=require")
	if len(heard) != 1 || heard[0] != "app@db.example:5432/neondb|" || strings.Contains(heard[0], "s3cret") {
		t.Fatalf("OnForget heard %q", heard)
	}
	before := loads
	if v, _, _ := cached(ctx, there, table, load); v != before+1 {
		t.Errorf("the other cache still answers the forgotten table from memory (%d)", v)
	}
	if v, _, _ := cached(ctx, there, other, load); v > before {
		t.Errorf("the other cache forgot another table too (%d)", v)
	}
	there.ForgetRemote("app@db.example")
	if v, _, _ := cached(ctx, there, other, load); v > before+1 {
		t.Error("ForgetRemote took a prefix that names no table")
	}
	there.ForgetRemote("")
	if v, _, _ := cached(ctx, there, other, load); v <= before+1 {
		t.Error("ForgetRemote(\"\") kept an answer")
	}
}
