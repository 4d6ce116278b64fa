package state_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

// heard collects what a notifier delivers.
type heard struct {
	msgs      chan string
	listening chan bool
}

func newHeard() *heard { return &heard{msgs: make(chan string, 16), listening: make(chan bool, 16)} }

func (h *heard) options() state.NotifierOptions {
	return state.NotifierOptions{
		Handle:      func(data json.RawMessage) { h.msgs <- string(data) },
		OnListening: func(on bool) { h.listening <- on },
	}
}

func (h *heard) expectListening(t *testing.T, want bool) {
	t.Helper()
	select {
	case on := <-h.listening:
		if on != want {
			t.Fatalf("OnListening(%t), want %t", on, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("OnListening(%t) never came", want)
	}
}

func (h *heard) expectMessage(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-h.msgs:
		if got != want {
			t.Fatalf("heard %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("never heard %s", want)
	}
}

// TestNotifierCarriesMessagesBetweenReplicas: what one replica publishes
// the other hears, and neither hears its own; cut off by the server, the
// listener says so, comes back by itself, and hears what follows.
func TestNotifierCarriesMessagesBetweenReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stores := make([]*state.Store, 2)
	for i := range stores {
		st, err := state.Open(ctx, url, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i] = st
	}
	ha, hb := newHeard(), newHeard()
	a := stores[0].Notifier("test_channel", ha.options())
	b := stores[1].Notifier("test_channel", hb.options())
	done := make(chan struct{}, 2)
	for _, n := range []*state.Notifier{a, b} {
		go func() { n.Run(ctx); done <- struct{}{} }()
	}
	ha.expectListening(t, true)
	hb.expectListening(t, true)

	a.Publish(map[string]string{"path": "/projects/p1"})
	hb.expectMessage(t, `{"path":"/projects/p1"}`)
	b.Publish("from b")
	ha.expectMessage(t, `"from b"`)
	select {
	case m := <-ha.msgs:
		t.Fatalf("a heard its own message %s", m)
	case m := <-hb.msgs:
		t.Fatalf("b heard its own message %s", m)
	case <-time.After(200 * time.Millisecond):
	}

	// Cut b's listening connection from the server side.
	pid := b.ListenerPID()
	if pid == 0 {
		t.Fatal("b has no listening connection")
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed bool
	if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate %d: %t, %v", pid, killed, err)
	}
	hb.expectListening(t, false)
	hb.expectListening(t, true)
	if b.ListenerPID() == pid || b.ListenerPID() == 0 {
		t.Errorf("after reconnecting the listener is pid %d (was %d)", b.ListenerPID(), pid)
	}
	a.Publish(1)
	hb.expectMessage(t, `1`)

	cancel()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}
