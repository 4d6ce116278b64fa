package neonapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

// clockLimiter is a limiter whose clock moves only when the test says.
func clockLimiter(perMinute, burst int) (*limiter, func(time.Duration)) {
	l := newLimiter(perMinute, burst)
	now := time.Now()
	l.now = func() time.Time { return now }
	return l, func(d time.Duration) { now = now.Add(d) }
}

// backgroundShed asserts that a background request of b is refused, and
// returns the refusal's RetryAfter.
func backgroundShed(t *testing.T, l *limiter, ctx context.Context, what string) time.Duration {
	t.Helper()
	d, err := l.wait(ctx)
	var s *ShedError
	if !errors.As(err, &s) || d != 0 {
		t.Fatalf("%s: background request waited %v, err %v; want it refused at once", what, d, err)
	}
	if !errors.Is(err, ErrShed) || s.RetryAfter() <= 0 {
		t.Fatalf("%s: %v, RetryAfter %v; want a ShedError with a positive hint", what, err, s.RetryAfter())
	}
	return s.RetryAfter()
}

// TestLimiterPrefersInteractiveReads: with no token left, an interactive
// read queues for the next one while a background read is refused at once;
// the background read still gets nothing when that token arrives, since the
// queued read is owed it, and goes out only from a token nobody is owed.
func TestLimiterPrefersInteractiveReads(t *testing.T) {
	l, advance := clockLimiter(60000, 2) // a token a millisecond
	for range 2 {
		if d, err := l.wait(context.Background()); err != nil || d != 0 {
			t.Fatalf("burst: wait %v, err %v", d, err)
		}
	}
	bg := BackgroundReads(context.Background(), 1)
	if hint := backgroundShed(t, l, bg, "no token"); hint != time.Millisecond {
		t.Errorf("no token: RetryAfter %v, want the 1ms to the next token", hint)
	}
	if d, err := l.wait(context.Background()); err != nil || d != time.Millisecond {
		t.Fatalf("interactive read with no token: wait %v, err %v; want it queued for the next token, 1ms away", d, err)
	}
	if hint := backgroundShed(t, l, bg, "a read queued ahead"); hint != 2*time.Millisecond {
		t.Errorf("a read queued ahead: RetryAfter %v, want 2ms: the next token is owed", hint)
	}
	advance(time.Millisecond) // the queued read's token arrives
	backgroundShed(t, l, bg, "the owed token arrived")
	advance(time.Millisecond)
	if d, err := l.wait(bg); err != nil || d != 0 {
		t.Fatalf("a spare token: background wait %v, err %v; want it sent at once", d, err)
	}
	if d, err := l.wait(context.Background()); err != nil || d != time.Millisecond {
		t.Errorf("after the background read: interactive wait %v, err %v; want the next token, 1ms away", d, err)
	}
}

// TestBackgroundReadsNeedRoomForTheWholePanel: a panel's first read goes
// out only when the bucket holds a token for each of its reads (at most the
// burst); once it has, the panel's other reads need a token each, not the
// whole room again.
func TestBackgroundReadsNeedRoomForTheWholePanel(t *testing.T) {
	l, _ := clockLimiter(60000, 10)
	for range 5 {
		if _, err := l.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// Five tokens left.
	if hint := backgroundShed(t, l, BackgroundReads(context.Background(), 9), "nine reads, five tokens"); hint != 4*time.Millisecond {
		t.Errorf("nine reads, five tokens: RetryAfter %v, want the 4ms until nine are there", hint)
	}
	panel := BackgroundReads(context.Background(), 4)
	for i := range 4 {
		if d, err := l.wait(panel); err != nil || d != 0 {
			t.Fatalf("four reads, five tokens: read %d waited %v, err %v; want all four sent at once", i+1, d, err)
		}
	}
	if got := l.bucket.TokensAt(l.now()); got != 1 {
		t.Errorf("%v tokens left, want 1: the panel took one a read", got)
	}
	if d, err := l.wait(panel); err != nil || d != 0 {
		t.Errorf("a fifth read of an admitted panel, one token left: waited %v, err %v; want it sent", d, err)
	}

	fresh, _ := clockLimiter(60000, 10)
	if d, err := fresh.wait(BackgroundReads(context.Background(), 50)); err != nil || d != 0 {
		t.Errorf("a panel larger than the burst, full bucket: waited %v, err %v; want it sent", d, err)
	}
}

// TestBackgroundPanelRecoversAfterAFlood replays what a badge sees once a
// flood of pages stops: the bucket owes the reads queued last, and the badge
// is asked again every 10ms. Each refused badge is refused before its first
// read, so none spends a token, and the first badge that goes out gets all
// nine reads at the first moment nine tokens are spare.
func TestBackgroundPanelRecoversAfterAFlood(t *testing.T) {
	l, advance := clockLimiter(DefaultRequestsPerMinute, DefaultBurst)
	const owed = 6 // about half a second of queued reads at 700 a minute
	now := l.now()
	l.bucket.ReserveN(now, DefaultBurst) // the flood took the burst
	l.bucket.ReserveN(now, owed)         // and queued more
	const step = 10 * time.Millisecond
	refusedReads := 0
	elapsed := time.Duration(0)
	for sent := 0; sent < 9; {
		if elapsed > 5*time.Second {
			t.Fatal("no badge went out within 5s of the flood")
		}
		advance(step)
		elapsed += step
		badge := BackgroundReads(context.Background(), 9)
		for sent = 0; sent < 9; sent++ {
			if _, err := l.wait(badge); err != nil {
				break
			}
		}
		if sent < 9 {
			refusedReads += sent
		}
	}
	if refusedReads != 0 {
		t.Errorf("badges refused partway sent %d reads first: that budget bought nothing", refusedReads)
	}
	want := (owed + 9) * time.Minute / DefaultRequestsPerMinute
	if elapsed < want || elapsed > want+step {
		t.Errorf("the first whole badge went out %v after the flood, want the first step after %v", elapsed, want)
	}
}

// TestCacheKeepsBackgroundFlightsApart: an interactive read does not join a
// background read of the same thing in flight, which the limiter may refuse
// on the background read's terms; it asks on its own.
func TestCacheKeepsBackgroundFlightsApart(t *testing.T) {
	e := newCacheEnv(t)
	c, w, _ := e.client(t, time.Minute)
	entered := make(chan string, 4)
	release := w.holdGets(entered)

	done := make(chan error, 2)
	go func() {
		_, err := c.GetProject(BackgroundReads(context.Background(), 1), e.p1.ID)
		done <- err
	}()
	<-entered
	go func() {
		_, err := c.GetProject(context.Background(), e.p1.ID)
		done <- err
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the interactive read joined the background read in flight")
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := w.count("GET /projects/" + e.p1.ID); n != 2 {
		t.Errorf("%d upstream reads, want 2", n)
	}
}

// TestCallersWhoLeftAreOwedNothing queues three callers for the next three
// tokens and lets them leave, the first first, as a flood's callers do when
// it stops. The bucket can take back only the last one's token; the other
// two must not stay owed, or the next caller would wait for three tokens
// instead of one.
func TestCallersWhoLeftAreOwedNothing(t *testing.T) {
	l, advance := clockLimiter(60, 1) // a token a second
	l.maxWait = time.Hour
	if _, err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokens := func() float64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.bucket.TokensAt(l.now())
	}
	var leave []context.CancelFunc
	var left []chan error
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := l.wait(ctx); done <- err }()
		for tokens() > -float64(i+1) {
			time.Sleep(time.Millisecond)
		}
		leave, left = append(leave, cancel), append(left, done)
	}
	for i := range 3 {
		leave[i]()
		if err := <-left[i]; !errors.Is(err, context.Canceled) {
			t.Fatalf("caller %d: %v, want context.Canceled", i+1, err)
		}
	}

	next, cancel := context.WithDeadline(context.Background(), l.now().Add(time.Millisecond))
	defer cancel()
	_, err := l.wait(next)
	var s *ShedError
	if !errors.As(err, &s) || s.Wait != time.Second {
		t.Fatalf("next caller: %v; want it refused by its deadline for a wait of one token, 1s", err)
	}
	bg := BackgroundReads(context.Background(), 1)
	if hint := backgroundShed(t, l, bg, "right after"); hint != time.Second {
		t.Errorf("background read right after: RetryAfter %v, want 1s", hint)
	}
	advance(time.Second)
	if d, err := l.wait(bg); err != nil || d != 0 {
		t.Errorf("a second later: background wait %v, err %v; want it sent", d, err)
	}
}
