package state_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

// missedMark is what events records for OnMissed, among the data heard.
const missedMark = "<missed>"

// events records, in order, what a notifier delivers and when it is told
// another replica dropped a message.
type events struct{ ch chan string }

func newEvents() *events { return &events{ch: make(chan string, 1024)} }

func (e *events) options() state.NotifierOptions {
	return state.NotifierOptions{
		Handle:   func(data json.RawMessage) { e.ch <- string(data) },
		OnMissed: func() { e.ch <- missedMark },
	}
}

func (e *events) next(t *testing.T) string {
	t.Helper()
	select {
	case got := <-e.ch:
		return got
	case <-time.After(5 * time.Second):
		t.Fatal("nothing more was heard")
		return ""
	}
}

func (e *events) expect(t *testing.T, want string) {
	t.Helper()
	if got := e.next(t); got != want {
		t.Fatalf("heard %s, want %s", got, want)
	}
}

func (e *events) expectNothing(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case got := <-e.ch:
		t.Fatalf("heard %s, want nothing more", got)
	case <-time.After(within):
	}
}

// runNotifiers runs each notifier until the test ends, and checks they
// stop when told.
func runNotifiers(t *testing.T, ns ...*state.Notifier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, len(ns))
	for _, n := range ns {
		go func() { n.Run(ctx); done <- struct{}{} }()
	}
	t.Cleanup(func() {
		cancel()
		for range ns {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		}
	})
}

// TestNotifierTellsOfAnOverflowedQueue: a message dropped because too
// many wait to be sent is never heard, but the first message that gets
// out after it tells the other replica it missed one, before its data;
// the messages after that do not.
func TestNotifierTellsOfAnOverflowedQueue(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	stores := make([]*state.Store, 2)
	for i := range stores {
		st, err := state.Open(ctx, url, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		stores[i] = st
	}
	e := newEvents()
	listening := make(chan bool, 4)
	opts := e.options()
	opts.OnListening = func(on bool) { listening <- on }
	b := stores[1].Notifier("test_channel", opts)
	runNotifiers(t, b)
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("b never listened")
	}

	// a does not send yet: its queue takes 256 messages, and drops the
	// 257th.
	a := stores[0].Notifier("test_channel", state.NotifierOptions{Handle: func(json.RawMessage) {}})
	const queued = 256
	for i := range queued + 1 {
		a.Publish(i)
	}
	runNotifiers(t, a)

	// The nudge after the drop and the queued messages race for the
	// sender: the drop is told either alone or with the first message.
	e.expect(t, missedMark)
	for i := range queued {
		e.expect(t, strconv.Itoa(i))
	}
	e.expectNothing(t, 200*time.Millisecond)
	a.Publish("after")
	e.expect(t, `"after"`)
	e.expectNothing(t, 200*time.Millisecond)
}

// TestNotifierTellsOfANoticeTheStoreRefused: a message the store does not
// take for longer than SendRetryFor is dropped; once the store takes
// messages again, the other replica is told it missed one although
// nothing else was published.
func TestNotifierTellsOfANoticeTheStoreRefused(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	busy, err := state.Open(ctx, url, state.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(busy.Close)
	other, err := state.Open(ctx, url, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	e := newEvents()
	listening := make(chan bool, 4)
	opts := e.options()
	opts.OnListening = func(on bool) { listening <- on }
	b := other.Notifier("test_channel", opts)
	a := busy.Notifier("test_channel", state.NotifierOptions{
		Handle: func(json.RawMessage) {}, SendRetryFor: 300 * time.Millisecond, MinBackoff: 50 * time.Millisecond,
	})
	runNotifiers(t, a, b)
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("b never listened")
	}

	held, err := busy.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Publish("lost")
	// One send waits two seconds for a connection: past SendRetryFor, so
	// "lost" is dropped after its first try.
	e.expectNothing(t, 2500*time.Millisecond)
	held.Release()
	e.expect(t, missedMark)
	e.expectNothing(t, 300*time.Millisecond)
	a.Publish("after")
	e.expect(t, `"after"`)
}
