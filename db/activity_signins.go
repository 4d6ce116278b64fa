package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// SignInEmail is the provider a sign-in is attributed to when no linked
// account was refreshed for it: a password, a magic link or a one-time code.
const SignInEmail = "email"

// SignInOther gathers the providers past MaxSignInProviders.
const SignInOther = "other"

// MaxSignInProviders bounds the providers a chart tells apart; the rest are
// counted together as SignInOther.
const MaxSignInProviders = 8

// maxProviderLen bounds a provider name as read: Better Auth's are short
// ("google", "github"), and a long one is cut rather than trusted.
const maxProviderLen = 64

// SignInAttribution is the rule that attributes a sign-in to a provider, in
// words, for the page. Better Auth records no provider on a session, but an
// OAuth sign-in refreshes the tokens on the user's account row for that
// provider just before it creates the session.
const SignInAttribution = `A sign-in is a session created in the bucket. It is attributed to the provider of the user's linked account (other than "credential", the password) whose "updatedAt" lies within the minute before the session's "createdAt" (the first by name in the rare case that several do): an OAuth sign-in refreshes that account's tokens just before it creates the session. A sign-in with no such account counts as "email": a password, a magic link or a one-time code.`

// SignInPoint is one bucket of the sign-ins chart: Counts[i] sign-ins by
// SignIns.Providers[i].
type SignInPoint struct {
	Start  time.Time
	Counts []int64
}

// SignIns is the sign-ins by provider chart of a branch.
type SignIns struct {
	// Providers are the providers seen, most sign-ins first, SignInOther
	// last when present.
	Providers []string
	// Totals[i] is the sign-ins of Providers[i] over the whole range.
	Totals []int64
	Points []SignInPoint
	// From, Took and At are as in ActiveUsers.
	From time.Time
	Took time.Duration
	At   time.Time
}

// SignIns counts the sessions created per bucket, from the bucket holding
// from to the one holding the instant before to, per provider by the rule
// SignInAttribution states. One GROUP BY statement (SignInsSQL) computes it;
// the series is cached per range for the cache TTL.
func (b *UserBrowser) SignIns(ctx context.Context, from, to time.Time, bucket Bucket) (SignIns, error) {
	const op = "sign-ins chart"
	starts, err := b.activityRange(op, from, to, bucket)
	if err != nil {
		return SignIns{}, err
	}
	from = starts[0]
	key := fmt.Sprintf("%s|sign-ins|%s|%d|%d", b.cacheKey, bucket, from.UnixMicro(), to.UnixMicro())
	v, at, err := cached(ctx, b.cache, key, func(ctx context.Context) (SignIns, error) {
		return b.signIns(ctx, from, to, bucket, starts)
	})
	if err != nil {
		return SignIns{}, wrapErr(op, b.target, err)
	}
	v.At = at
	return v, nil
}

// SignInsSQL returns the statement SignIns runs and its arguments, so the
// benchmark can time it bare. The sessions created in the range are joined
// to the accounts refreshed just before them in one hash join (one probe per
// session, where a lookup per session through account_userId_idx costs an
// index descent each), grouped back to one row per session, then counted.
func (b *UserBrowser) SignInsSQL(from, to time.Time, bucket Bucket) (string, []any) {
	return fmt.Sprintf(`SELECT p.b, p.provider, count(*)
  FROM (SELECT date_trunc($3::text, min(s."createdAt"), 'UTC') AS b,
               coalesce(min(left(a."providerId", %d)), '%s') AS provider
          FROM neon_auth.session s
          LEFT JOIN neon_auth.account a
            ON a."userId" = s."userId" AND a."providerId" <> 'credential'
           AND a."updatedAt" <= s."createdAt" AND a."updatedAt" > s."createdAt" - interval '1 minute'
         WHERE s."createdAt" >= $1::timestamptz AND s."createdAt" < $2::timestamptz
         GROUP BY s.id) p
 GROUP BY p.b, p.provider`, maxProviderLen, SignInEmail), []any{from, to, string(bucket)}
}

func (b *UserBrowser) signIns(ctx context.Context, from, to time.Time, bucket Bucket, starts []time.Time) (SignIns, error) {
	sql, args := b.SignInsSQL(from, to, bucket)
	began := time.Now()
	type cell struct {
		bucket   int
		provider string
		n        int64
	}
	var cells []cell
	totals := map[string]int64{}
	var start time.Time
	var provider string
	var n int64
	err := b.chartRows(ctx, sql, args, []any{&start, &provider, &n}, func() error {
		i, err := bucketIndex(starts, start)
		if err != nil {
			return err
		}
		cells = append(cells, cell{i, provider, n})
		totals[provider] += n
		return nil
	})
	took := time.Since(began)
	if err != nil {
		return SignIns{}, err
	}
	s := SignIns{From: from, Took: took, Providers: rankProviders(totals)}
	column := make(map[string]int, len(s.Providers))
	for i, p := range s.Providers {
		column[p] = i
	}
	s.Totals = make([]int64, len(s.Providers))
	s.Points = make([]SignInPoint, len(starts))
	for i, t := range starts {
		s.Points[i] = SignInPoint{Start: t, Counts: make([]int64, len(s.Providers))}
	}
	for _, c := range cells {
		j, ok := column[c.provider]
		if !ok {
			j = column[SignInOther]
		}
		s.Points[c.bucket].Counts[j] += c.n
		s.Totals[j] += c.n
	}
	return s, nil
}

// rankProviders orders providers by sign-ins, most first (ties by name),
// keeping MaxSignInProviders of them and SignInOther for the rest.
func rankProviders(totals map[string]int64) []string {
	ps := make([]string, 0, len(totals))
	for p := range totals {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b string) int {
		return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b))
	})
	if len(ps) > MaxSignInProviders {
		ps = append(slices.DeleteFunc(ps[:MaxSignInProviders-1], func(p string) bool { return p == SignInOther }), SignInOther)
	}
	return ps
}
