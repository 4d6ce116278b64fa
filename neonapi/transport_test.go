package neonapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// outcome is what one scripted attempt produces.
type outcome struct {
	status     int
	retryAfter string
	err        error
}

// scriptedBase is a base RoundTripper that answers attempts from a script and
// records what it was sent; after the script it repeats the last entry.
type scriptedBase struct {
	mu     sync.Mutex
	script []outcome
	sent   []*http.Request
	bodies []string
}

func (s *scriptedBase) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	n := len(s.sent)
	s.sent = append(s.sent, r)
	s.bodies = append(s.bodies, string(body))
	o := s.script[min(n, len(s.script)-1)]
	s.mu.Unlock()
	if o.err != nil {
		return nil, o.err
	}
	h := http.Header{}
	if o.retryAfter != "" {
		h.Set("Retry-After", o.retryAfter)
	}
	return &http.Response{
		StatusCode: o.status,
		Header:     h,
		Body:       io.NopCloser(strings.NewReader(`{"code":"","message":"scripted"}`)),
		Request:    r,
	}, nil
}

func (s *scriptedBase) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// pauses records the transport's sleeps instead of taking them.
type pauses struct {
	mu sync.Mutex
	ds []time.Duration
}

func (p *pauses) sleep(ctx context.Context, d time.Duration) error {
	p.mu.Lock()
	p.ds = append(p.ds, d)
	p.mu.Unlock()
	return ctx.Err()
}

func (p *pauses) all() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.ds...)
}

type retryCounter struct {
	nopObserver
	retries atomic.Int32
}

func (o *retryCounter) ObserveRetry(string) { o.retries.Add(1) }

func testTransport(base http.RoundTripper, p RetryPolicy) (*retryTransport, *pauses, *retryCounter) {
	obs := &retryCounter{}
	t := newRetryTransport(base, p, nil, obs)
	ps := &pauses{}
	t.sleep = ps.sleep
	t.jitter = func(n time.Duration) time.Duration { return n - 1 } // the top of the range
	return t, ps, obs
}

func newReq(t *testing.T, ctx context.Context, method, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://neon.invalid/api/v2/x", r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(RequestIDHeader, "rid-1")
	return req
}

// TestRetryMatrix pins down which failures are retried for which methods, with
// every attempt failing the same way and three attempts allowed.
func TestRetryMatrix(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	noHost := &net.DNSError{Err: "no such host", Name: "neon.invalid", IsNotFound: true}
	timeout := &attemptTimeoutError{after: time.Second, cause: context.DeadlineExceeded}

	failures := []struct {
		name string
		out  outcome
		// attempts for GET/HEAD/OPTIONS and for POST/PUT/PATCH/DELETE
		safe, unsafe int
	}{
		{"connection reset", outcome{err: reset}, 3, 1},
		{"attempt timeout", outcome{err: timeout}, 3, 1},
		{"EOF", outcome{err: io.EOF}, 3, 1},
		{"connection refused", outcome{err: refused}, 3, 3},
		{"DNS failure", outcome{err: noHost}, 3, 3},
		{"429", outcome{status: 429}, 3, 1},
		{"502", outcome{status: 502}, 3, 1},
		{"504", outcome{status: 504}, 3, 1},
		{"503", outcome{status: 503}, 3, 3},
		{"423", outcome{status: 423}, 3, 3},
		{"500", outcome{status: 500}, 1, 1},
		{"400", outcome{status: 400}, 1, 1},
		{"404", outcome{status: 404}, 1, 1},
		{"409", outcome{status: 409}, 1, 1},
		{"200", outcome{status: 200}, 1, 1},
	}
	methods := []struct {
		method string
		safe   bool
	}{
		{"GET", true}, {"HEAD", true}, {"OPTIONS", true},
		{"POST", false}, {"PUT", false}, {"PATCH", false}, {"DELETE", false},
	}
	for _, f := range failures {
		for _, m := range methods {
			t.Run(f.name+"/"+m.method, func(t *testing.T) {
				want := f.unsafe
				if m.safe {
					want = f.safe
				}
				body := ""
				if !m.safe {
					body = `{"email":"a@example.com"}`
				}
				base := &scriptedBase{script: []outcome{f.out}}
				tr, ps, obs := testTransport(base, RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second})
				resp, err := tr.RoundTrip(newReq(t, context.Background(), m.method, body))
				if got := base.attempts(); got != want {
					t.Fatalf("attempts = %d, want %d", got, want)
				}
				if got := int(obs.retries.Load()); got != want-1 {
					t.Errorf("ObserveRetry called %d times, want %d", got, want-1)
				}
				if len(ps.all()) != want-1 {
					t.Errorf("paused %d times, want %d", len(ps.all()), want-1)
				}
				if f.out.err != nil {
					if resp != nil || !errors.Is(err, f.out.err) {
						t.Errorf("got (%v, %v), want the last attempt's error %v", resp, err, f.out.err)
					}
				} else {
					if err != nil || resp.StatusCode != f.out.status {
						t.Fatalf("got (%v, %v), want the last attempt's %d", resp, err, f.out.status)
					}
					resp.Body.Close()
				}
				for i, b := range base.bodies {
					if b != body {
						t.Errorf("attempt %d body = %q, want %q", i+1, b, body)
					}
					if id := base.sent[i].Header.Get(RequestIDHeader); id != "rid-1" {
						t.Errorf("attempt %d X-Request-ID = %q, want rid-1", i+1, id)
					}
				}
			})
		}
	}
}

func TestRetryRecovers(t *testing.T) {
	base := &scriptedBase{script: []outcome{{status: 503}, {err: io.ErrUnexpectedEOF}, {status: 200}}}
	tr, ps, _ := testTransport(base, RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 150 * time.Millisecond})
	resp, err := tr.RoundTrip(newReq(t, context.Background(), "GET", ""))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got (%v, %v), want 200", resp, err)
	}
	resp.Body.Close()
	if base.attempts() != 3 {
		t.Errorf("attempts = %d, want 3", base.attempts())
	}
	// Full jitter draws below min(MaxDelay, BaseDelay·2^n); the test's jitter
	// returns the top of that range.
	want := []time.Duration{100*time.Millisecond - 1, 150*time.Millisecond - 1}
	if got := ps.all(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pauses = %v, want %v", got, want)
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	tr := newRetryTransport(nil, RetryPolicy{MaxAttempts: 100, BaseDelay: time.Second, MaxDelay: 30 * time.Second}, nil, nopObserver{})
	var ceilings []time.Duration
	tr.jitter = func(n time.Duration) time.Duration { ceilings = append(ceilings, n); return 0 }
	for _, attempt := range []int{1, 2, 3, 5, 6, 40, 70} {
		tr.backoff(attempt)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if fmt.Sprint(ceilings) != fmt.Sprint(want) {
		t.Errorf("ceilings = %v, want %v", ceilings, want)
	}
	real := newRetryTransport(nil, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}, nil, nopObserver{})
	for range 1000 {
		if d := real.backoff(3); d < 0 || d >= 2*time.Millisecond {
			t.Fatalf("backoff(3) = %v, outside [0, 2ms)", d)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		header   string
		min, max time.Duration
	}{
		{"seconds", "2", 2 * time.Second, 2 * time.Second},
		{"HTTP-date", date, time.Second, 3 * time.Second}, // the date has one-second resolution
		{"garbage falls back to backoff", "soon", 50*time.Millisecond - 1, 50*time.Millisecond - 1},
		{"past date falls back to backoff", "Mon, 02 Jan 2006 15:04:05 GMT", 50*time.Millisecond - 1, 50*time.Millisecond - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := &scriptedBase{script: []outcome{{status: 429, retryAfter: tt.header}, {status: 200}}}
			tr, ps, _ := testTransport(base, RetryPolicy{MaxAttempts: 3, BaseDelay: 50 * time.Millisecond, MaxDelay: 10 * time.Second})
			resp, err := tr.RoundTrip(newReq(t, context.Background(), "GET", ""))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("got (%v, %v), want 200 after one retry", resp, err)
			}
			resp.Body.Close()
			got := ps.all()
			if len(got) != 1 || got[0] < tt.min || got[0] > tt.max {
				t.Errorf("pauses = %v, want one within [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                                0,
		"0":                               0,
		"-5":                              0,
		" 7 ":                             7 * time.Second,
		"99999999999":                     24 * time.Hour,
		"1.5":                             0,
		"Tue, 09 Jun 2026 12:00:30 GMT":   30 * time.Second,
		"Tuesday, 09-Jun-26 12:01:00 GMT": time.Minute, // RFC 850, which RFC 9110 still accepts
		"Tue, 09 Jun 2026 11:59:00 GMT":   0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLongRetryAfterIsReturnedNotWaited(t *testing.T) {
	base := &scriptedBase{script: []outcome{{status: 429, retryAfter: "120"}}}
	tr, ps, _ := testTransport(base, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Second})
	resp, err := tr.RoundTrip(newReq(t, context.Background(), "GET", ""))
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("got (%v, %v), want the 429", resp, err)
	}
	resp.Body.Close()
	if base.attempts() != 1 || len(ps.all()) != 0 {
		t.Errorf("attempts = %d, pauses = %v; want 1 and none", base.attempts(), ps.all())
	}
}

func TestRetryThatWouldOutliveDeadlineReturnsNow(t *testing.T) {
	base := &scriptedBase{script: []outcome{{status: 503, retryAfter: "5"}}}
	tr, ps, _ := testTransport(base, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := tr.RoundTrip(newReq(t, ctx, "GET", ""))
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("got (%v, %v), want the 503", resp, err)
	}
	resp.Body.Close()
	if base.attempts() != 1 || len(ps.all()) != 0 {
		t.Errorf("attempts = %d, pauses = %v; want 1 and none", base.attempts(), ps.all())
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	base := &scriptedBase{script: []outcome{{status: 503}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &cancelOnRetry{cancel: cancel}
	// Real sleeping, with a pause long enough that only cancellation ends it.
	tr := newRetryTransport(base, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Hour, MaxDelay: time.Hour}, nil, obs)
	tr.jitter = func(n time.Duration) time.Duration { return n - 1 }
	resp, err := tr.RoundTrip(newReq(t, ctx, "GET", ""))
	if resp != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got (%v, %v), want context.Canceled", resp, err)
	}
	if base.attempts() != 1 {
		t.Errorf("attempts = %d, want 1", base.attempts())
	}
}

type cancelOnRetry struct {
	nopObserver
	cancel context.CancelFunc
}

func (o *cancelOnRetry) ObserveRetry(string) { o.cancel() }

func TestUnreplayableBodyIsNotRetried(t *testing.T) {
	base := &scriptedBase{script: []outcome{{status: 503}}}
	tr, _, _ := testTransport(base, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
	req := newReq(t, context.Background(), "POST", "")
	req.Body = io.NopCloser(strings.NewReader("once"))
	req.GetBody = nil
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("got (%v, %v), want the 503", resp, err)
	}
	resp.Body.Close()
	if base.attempts() != 1 {
		t.Errorf("attempts = %d, want 1", base.attempts())
	}
}

// TestOverTheWire runs the transport against a real server for the failures
// only a real connection shows: a dropped connection and a hung response.
func TestOverTheWire(t *testing.T) {
	type behaviour int
	const (
		ok behaviour = iota
		drop
		hang
	)
	tests := []struct {
		name         string
		method       string
		first        behaviour
		wantAttempts int32
		wantErr      error // nil: success expected
	}{
		{"GET after drop", "GET", drop, 2, nil},
		{"POST after drop", "POST", drop, 1, io.EOF},
		{"GET after hang", "GET", hang, 2, nil},
		{"POST after hang", "POST", hang, 1, context.DeadlineExceeded},
		{"DELETE after hang", "DELETE", hang, 1, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if hits.Add(1) == 1 {
					switch tt.first {
					case drop:
						conn, _, err := w.(http.Hijacker).Hijack()
						if err == nil {
							conn.Close()
						}
						return
					case hang:
						<-r.Context().Done() // until the client gives up on the attempt
						return
					}
				}
				w.WriteHeader(200)
				io.WriteString(w, `{}`)
			}))
			defer srv.Close()

			base := srv.Client().Transport
			tr := newRetryTransport(base, RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, AttemptTimeout: 100 * time.Millisecond}, nil, nopObserver{})
			req, _ := http.NewRequest(tt.method, srv.URL, bytes.NewReader([]byte(`{"email":"a@example.com"}`)))
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if got := hits.Load(); got != tt.wantAttempts {
				t.Errorf("server saw %d requests, want %d", got, tt.wantAttempts)
			}
			if tt.wantErr == nil {
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("got (%v, %v), want 200", resp, err)
				}
				return
			}
			if resp != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("got (%v, %v), want error %v", resp, err, tt.wantErr)
			}
		})
	}
}

// frozenLimiter is a limiter whose clock never moves, so tokens never refill:
// exactly the requests beyond the burst must queue, each a step longer.
func frozenLimiter(perMinute, burst int) *limiter {
	l := newLimiter(perMinute, burst)
	t0 := time.Now()
	l.now = func() time.Time { return t0 }
	return l
}

type waitRecorder struct {
	nopObserver
	mu    sync.Mutex
	waits []time.Duration
}

func (o *waitRecorder) ObserveRateLimitWait(d time.Duration) {
	o.mu.Lock()
	o.waits = append(o.waits, d)
	o.mu.Unlock()
}

func TestRateLimiterQueuesBeyondBurst(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"data":[]}`)
	}))
	defer srv.Close()

	// 60000/min is one token per millisecond, so real waits stay tiny.
	obs := &waitRecorder{}
	c, err := New(testKeyInternal, WithBaseURL(srv.URL), WithObserver(obs), WithRateLimit(60000, 3))
	if err != nil {
		t.Fatal(err)
	}
	c.hc.Transport.(*retryTransport).limiter = frozenLimiter(60000, 3)

	const callers = 10
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.ListIntegrations(context.Background(), "p-1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != callers {
		t.Errorf("server saw %d requests, want %d", hits.Load(), callers)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.waits) != callers-3 {
		t.Fatalf("%d callers queued, want %d (all beyond the burst of 3): %v", len(obs.waits), callers-3, obs.waits)
	}
	var total time.Duration
	for _, d := range obs.waits {
		total += d
	}
	// With a frozen clock the queued callers wait 1ms, 2ms, ... 7ms.
	if total != 28*time.Millisecond {
		t.Errorf("total queued = %v, want 28ms", total)
	}
}

const testKeyInternal = "napi_internal_test_key"

func TestRateLimiterRefusesWaitBeyondDeadline(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"data":[]}`)
	}))
	defer srv.Close()
	c, err := New(testKeyInternal, WithBaseURL(srv.URL), WithRateLimit(1, 1)) // one a minute
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.ListIntegrations(ctx, "p-1"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListIntegrations(ctx, "p-1")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited from the local limiter", err)
	}
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want a RequestError that is not ErrUnavailable", err)
	}
	if hits.Load() != 1 {
		t.Errorf("server saw %d requests, want 1", hits.Load())
	}

	// Without a deadline, and with a queue bound beyond the wait, the caller
	// queues until cancelled.
	ctx3, cancel3 := context.WithCancel(context.Background())
	obs := &waitRecorder{}
	c.hc.Transport.(*retryTransport).observer = obs
	c.hc.Transport.(*retryTransport).limiter.maxWait = time.Hour
	stop := time.AfterFunc(20*time.Millisecond, cancel3)
	defer stop.Stop()
	_, err = c.ListIntegrations(ctx3, "p-1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if hits.Load() != 1 || len(obs.waits) != 0 {
		t.Errorf("hits = %d, waits = %v; want 1 and none reported for an abandoned wait", hits.Load(), obs.waits)
	}
}

func TestDefaultRateLimit(t *testing.T) {
	c, err := New(testKeyInternal)
	if err != nil {
		t.Fatal(err)
	}
	tr := c.hc.Transport.(*retryTransport)
	if tr.limiter == nil {
		t.Fatal("no limiter by default")
	}
	if got := float64(tr.limiter.bucket.Limit()) * 60; got < 699.99 || got > 700.01 {
		t.Errorf("limit = %v/min, want 700", got)
	}
	if got := tr.limiter.bucket.Burst(); got != 40 {
		t.Errorf("burst = %d, want 40", got)
	}
	if tr.policy != DefaultRetryPolicy() {
		t.Errorf("policy = %+v, want the default", tr.policy)
	}
	off, _ := New(testKeyInternal, WithoutRateLimit())
	if off.hc.Transport.(*retryTransport).limiter != nil {
		t.Error("WithoutRateLimit left a limiter in place")
	}
}

func TestHTTPClientIsNotModified(t *testing.T) {
	hc := &http.Client{Timeout: time.Minute}
	c, err := New(testKeyInternal, WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil {
		t.Error("the caller's http.Client was modified")
	}
	if c.hc.Timeout != time.Minute {
		t.Errorf("timeout = %v, want the caller's", c.hc.Timeout)
	}
}
