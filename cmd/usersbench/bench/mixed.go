package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// MixedResult is one run of the mixed load, through the dashboard and as
// bare SQL, for one table and combination of indexes.
type MixedResult struct {
	Table   string
	Indexes indexSet
	// Clients ran at once, Searchers of them searching, the others
	// browsing.
	Clients, Searchers int
	Dashboard, Bare    MixedSide
	// BrowsePlan is how Postgres runs the bare deep page: whether the
	// browse order is served by an index, which the browse target needs.
	BrowsePlan    string
	BrowseIndexed bool
}

// MixedSide is what one side of the mixed load saw.
type MixedSide struct {
	Browse, Search Tally
	FirstErr       string
	Elapsed        time.Duration
}

// Tally is what the browsing or the searching clients of one side saw: the
// times of the requests answered, the 503 answers with Retry-After (the
// dashboard said "later" at once instead of queueing) and other failures.
type Tally struct {
	Stats
	Busy, Errors int
}

// Errors counts the failures of both kinds of clients.
func (s MixedSide) Errors() int { return s.Browse.Errors + s.Search.Errors }

// mixedTarget is the browse p99 the dashboard must keep while searches run.
const mixedTarget = 50 * time.Millisecond

// Met reports whether the browse p99 stayed under mixedTarget through the
// dashboard, where an index serves the browse order ("" where none does:
// then every page is a scan, and the bare SQL misses it too).
func (m MixedResult) Met() string {
	switch {
	case m.Dashboard.Browse.N == 0:
		return "ERROR"
	case !m.BrowseIndexed:
		return ""
	case m.Dashboard.Browse.P99 < mixedTarget:
		return "ok"
	}
	return "MISS"
}

// outcome is how one request of the mixed load ended.
type outcome struct {
	busy  bool
	retry time.Duration // Retry-After of a busy answer
	err   error
}

// maxBackoff caps how long a client waits after a busy answer, so a long
// Retry-After does not idle the load.
const maxBackoff = time.Second

// mix runs clients workers for d, the first searchers of them searching
// and the rest browsing; each calls op(ctx, search, worker, i) in a loop.
// A browsing client waits think between pages, as a person reading them
// does; a searching one searches again at once, so searches run all the
// time. After a busy answer a client waits as Retry-After asks (at most
// maxBackoff). Requests cut short by the end of the run are not counted.
func mix(ctx context.Context, clients, searchers int, d, think time.Duration, op func(ctx context.Context, search bool, w, i int) outcome) MixedSide {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var browse, search []time.Duration
	var side MixedSide
	var busy, errs [2]int // browse, search
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			isSearch := w < searchers
			var lat []time.Duration
			var nBusy, nErrs int
			var firstErr error
			for i := 0; ctx.Err() == nil; i++ {
				t := time.Now()
				o := op(ctx, isSearch, w, i)
				took := time.Since(t)
				if ctx.Err() != nil {
					break
				}
				switch {
				case o.err != nil:
					nErrs++
					if firstErr == nil {
						firstErr = o.err
					}
				case o.busy:
					nBusy++
					sleep(ctx, min(max(o.retry, 10*time.Millisecond), maxBackoff))
				default:
					lat = append(lat, took)
				}
				if !isSearch && think > 0 {
					sleep(ctx, think)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			kind := 0
			if isSearch {
				kind = 1
				search = append(search, lat...)
			} else {
				browse = append(browse, lat...)
			}
			busy[kind] += nBusy
			errs[kind] += nErrs
			if firstErr != nil && side.FirstErr == "" {
				side.FirstErr = firstErr.Error()
			}
		})
	}
	wg.Wait()
	side.Elapsed = time.Since(start)
	side.Browse = Tally{Stats: summarize(browse), Busy: busy[0], Errors: errs[0]}
	side.Search = Tally{Stats: summarize(search), Busy: busy[1], Errors: errs[1]}
	return side
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// mixedSearches are the searches of the mixed load: one match, none and
// every user, the first two costing a scan of the table.
func (s *suite) mixedSearches() []string {
	return []string{s.rareSearch, "nobody-at-all", "example"}
}

// mixedPages are the browse pages of the mixed load, as cursors for the
// browse route ("" for the first page, "last" for the last) and as the bare
// statement and arguments reading them.
func (s *suite) mixedPages() (cursors []url.Values, bare [][]any) {
	first := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s DESC, id DESC LIMIT %d", s.cols, s.table, s.created, pageSize)
	cursors = append(cursors, url.Values{})
	bare = append(bare, []any{first})
	for _, dp := range s.depths {
		cursors = append(cursors, url.Values{"after": {s.b.Cursor(dp.after)}})
		bare = append(bare, []any{s.keysetSQL(), dp.after.CreatedAt, dp.after.ID})
	}
	cursors = append(cursors, url.Values{"last": {"1"}})
	bare = append(bare, []any{fmt.Sprintf("SELECT %s FROM %s ORDER BY %s, id LIMIT %d", s.cols, s.table, s.created, pageSize)})
	return cursors, bare
}

// mixedLoad runs the mix against the dashboard's HTTP server, then the
// same mix as bare SQL on a plain connection per client.
func (s *suite) mixedLoad(ctx context.Context, clients, searchers int, d, think time.Duration) (MixedResult, error) {
	r := MixedResult{Clients: clients, Searchers: searchers}
	cursors, bare := s.mixedPages()
	deep := bare[len(bare)-2] // the deepest page read by cursor, or the first
	r.BrowsePlan, r.BrowseIndexed = s.planOf(ctx, deep[0].(string), deep[1:]...)
	searches := s.mixedSearches()

	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * requestTimeout}
	r.Dashboard = mix(ctx, clients, searchers, d, think, func(ctx context.Context, search bool, w, i int) outcome {
		v := cursors[(w+i)%len(cursors)]
		if search {
			v = url.Values{"q": {searches[(w+i)%len(searches)]}}
		}
		status, _, retry, err := get(ctx, client, s.srv.URL+s.users.url("browse", v), true)
		switch {
		case err != nil:
			return outcome{err: err}
		case status == http.StatusServiceUnavailable && retry > 0:
			return outcome{busy: true, retry: retry}
		case status != http.StatusOK:
			return outcome{err: fmt.Errorf("GET browse %s: %d", v.Encode(), status)}
		}
		return outcome{}
	})

	conns := make([]*pgx.Conn, clients)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for i := range conns {
		c, err := pgx.Connect(ctx, s.d.url)
		if err != nil {
			return r, err
		}
		conns[i] = c
	}
	search := fmt.Sprintf("SELECT %s FROM %s WHERE email ILIKE $1 OR name ILIKE $1 ORDER BY %s DESC, id DESC LIMIT %d",
		s.cols, s.table, s.created, pageSize)
	r.Bare = mix(ctx, clients, searchers, d, think, func(ctx context.Context, isSearch bool, w, i int) outcome {
		q := bare[(w+i)%len(bare)]
		if isSearch {
			q = []any{search, "%" + searches[(w+i)%len(searches)] + "%"}
		}
		err := runBare(ctx, conns[w], q[0].(string), q[1:]...)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return outcome{} // the run ended; not counted
		}
		return outcome{err: err}
	})
	return r, nil
}
