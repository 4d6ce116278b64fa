package neonapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLimiterShedsBeyondMaxWait floods a limiter whose clock never moves:
// the burst goes out, the callers whose wait fits the queue's bound queue, and
// every other caller is shed at once instead of queueing behind them, even
// without a deadline of its own.
func TestLimiterShedsBeyondMaxWait(t *testing.T) {
	l := frozenLimiter(60000, 3) // a token a millisecond, never refilled
	l.maxWait = 3 * time.Millisecond

	const callers = 10
	var (
		mu     sync.Mutex
		waits  []time.Duration
		shed   []*ShedError
		others []error
		wg     sync.WaitGroup
	)
	for range callers {
		wg.Go(func() {
			d, err := l.wait(context.Background())
			mu.Lock()
			defer mu.Unlock()
			var s *ShedError
			switch {
			case err == nil:
				waits = append(waits, d)
			case errors.As(err, &s):
				shed = append(shed, s)
			default:
				others = append(others, err)
			}
		})
	}
	wg.Wait()
	if len(others) > 0 {
		t.Fatalf("unexpected errors: %v", others)
	}
	// Three from the burst, three queued for 1, 2 and 3ms; the rest shed.
	if len(waits) != 6 || len(shed) != 4 {
		t.Fatalf("%d sent (waits %v), %d shed; want 6 sent and 4 shed", len(waits), waits, len(shed))
	}
	for _, s := range shed {
		if s.Wait <= l.maxWait || s.Limit != l.maxWait {
			t.Errorf("shed with wait %v, limit %v; want a wait beyond the %v bound", s.Wait, s.Limit, l.maxWait)
		}
		if !errors.Is(s, ErrShed) || !errors.Is(s, ErrRateLimited) {
			t.Errorf("%v does not match ErrShed and ErrRateLimited", s)
		}
	}
}

// TestShedRequestsCostNothing checks that a shed request hands its place
// back: the next caller gets the same slot, not one behind every shed caller.
func TestShedRequestsCostNothing(t *testing.T) {
	l := frozenLimiter(60000, 1)
	l.maxWait = time.Hour
	if _, err := l.wait(context.Background()); err != nil { // the burst
		t.Fatal(err)
	}
	short, cancel := context.WithDeadline(context.Background(), l.now().Add(time.Microsecond))
	defer cancel()
	for range 5 {
		_, err := l.wait(short)
		var s *ShedError
		if !errors.As(err, &s) || s.Wait != time.Millisecond {
			t.Fatalf("err = %v, want a ShedError asking for the 1ms slot", err)
		}
	}
	d, err := l.wait(context.Background())
	if err != nil || d != time.Millisecond {
		t.Fatalf("after shedding: wait %v, err %v; want the 1ms slot the shed callers gave back", d, err)
	}
}

// TestClientShedsFloodFast sends more requests through a real client than its
// budget allows within the queue's bound: the excess fails at once with a
// RequestError that matches ErrShed, never reaches the server, and is not
// mistaken for Neon being unavailable.
func TestClientShedsFloodFast(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"data":[]}`)
	}))
	defer srv.Close()
	c, err := New(testKeyInternal, WithBaseURL(srv.URL), WithRateLimit(1, 2)) // one a minute after a burst of two
	if err != nil {
		t.Fatal(err)
	}
	var sent, shed int
	for range 5 {
		_, err := c.ListIntegrations(context.Background(), "p-1")
		switch {
		case err == nil:
			sent++
		case errors.Is(err, ErrShed):
			shed++
			var reqErr *RequestError
			var s *ShedError
			if !errors.As(err, &reqErr) || !errors.As(err, &s) || errors.Is(err, ErrUnavailable) {
				t.Errorf("err = %v, want a RequestError around a ShedError, not ErrUnavailable", err)
			}
			if s != nil && s.RetryAfter() < 50*time.Second {
				t.Errorf("RetryAfter = %v, want about a minute (one token a minute)", s.RetryAfter())
			}
		default:
			t.Fatalf("err = %v, want success or ErrShed", err)
		}
	}
	if sent != 2 || shed != 3 || hits.Load() != 2 {
		t.Errorf("sent %d, shed %d, server saw %d; want 2, 3, 2", sent, shed, hits.Load())
	}
}

// TestHungAttemptLeavesRoomForRetry gives a GET a deadline and a server whose
// first answer never comes: the first attempt may use only part of the
// budget, so a retry still gets through before the deadline.
func TestHungAttemptLeavesRoomForRetry(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()

	p := DefaultRetryPolicy()
	p.BaseDelay, p.MaxDelay = time.Millisecond, time.Millisecond
	tr := newRetryTransport(srv.Client().Transport, p, nil, nopObserver{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("err = %v after %d attempts, want the retry's answer within the deadline", err, hits.Load())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hits.Load() != 2 {
		t.Errorf("status %d after %d attempts, want 200 after 2", resp.StatusCode, hits.Load())
	}
}

// TestAttemptTimeoutFollowsDeadline pins down each attempt's share of the
// budget: half of what remains while a retry is possible, the rest for the
// last attempt and for methods that are never repeated after a timeout.
func TestAttemptTimeoutFollowsDeadline(t *testing.T) {
	tr := newRetryTransport(nil, RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, AttemptTimeout: time.Minute}, nil, nopObserver{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		method string
		n      int
		min    time.Duration
		max    time.Duration
	}{
		{"no deadline", context.Background(), http.MethodGet, 1, time.Minute, time.Minute},
		{"attempt timeouts off", shortCtx(t, 10*time.Second), "off", 1, 0, 0},
		{"deadline beyond the policy", ctx, http.MethodGet, 1, time.Minute, time.Minute},
		{"POST keeps the policy", shortCtx(t, 10*time.Second), http.MethodPost, 1, time.Minute, time.Minute},
		{"last GET keeps the policy", shortCtx(t, 10*time.Second), http.MethodGet, 3, time.Minute, time.Minute},
		{"GET gets half", shortCtx(t, 10*time.Second), http.MethodGet, 1, 4 * time.Second, 5 * time.Second},
	}
	off := newRetryTransport(nil, RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}, nil, nopObserver{})
	for _, tt := range tests {
		tr := tr
		if tt.method == "off" {
			tr, tt.method = off, http.MethodGet
		}
		if got := tr.attemptTimeout(tt.ctx, tt.method, tt.n); got < tt.min || got > tt.max {
			t.Errorf("%s: attempt timeout %v, want within [%v, %v]", tt.name, got, tt.min, tt.max)
		}
	}
}

func shortCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestFloodLeavesNoDebt floods a limiter whose clock never moves with
// callers that are nearly all shed. Every shed reservation must go back to
// the bucket, however the callers interleave: afterwards the next caller
// waits no longer than the queue's bound, not for the whole flood.
func TestFloodLeavesNoDebt(t *testing.T) {
	l := frozenLimiter(60000, 5) // a token a millisecond, never refilled
	l.maxWait = 10 * time.Millisecond
	// More threads than cores, so that callers are preempted between taking
	// a reservation and handing it back, as they are on a loaded server.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(16))
	var wg sync.WaitGroup
	var sent atomic.Int32
	for range 200 {
		wg.Go(func() {
			for range 250 {
				if _, err := l.wait(context.Background()); err == nil {
					sent.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// Five from the burst and ten queued, whatever the order.
	if sent.Load() != 15 {
		t.Errorf("%d requests went out, want 15", sent.Load())
	}
	_, err := l.wait(context.Background())
	var s *ShedError
	if !errors.As(err, &s) || s.Wait > l.maxWait+time.Millisecond {
		t.Fatalf("after the flood: %v; want a shed asking for the next slot, %v away", err, l.maxWait+time.Millisecond)
	}
}
