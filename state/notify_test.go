package state_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
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

// stallingProxy forwards TCP connections to a Postgres server until stall,
// after which the connections open then carry nothing more either way and
// never close: a server or network gone without a word. Connections opened
// after stall flow again.
type stallingProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	current []*atomic.Bool
	conns   []net.Conn
}

func newStallingProxy(t *testing.T, target string) *stallingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{ln: ln, target: target}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			stalled := &atomic.Bool{}
			p.mu.Lock()
			p.current = append(p.current, stalled)
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 && !stalled.Load() {
						_, _ = dst.Write(buf[:n])
					}
					if err != nil {
						c.Close()
						up.Close()
						return
					}
				}
			}
			conns.Go(func() { pipe(up, c) })
			conns.Go(func() { pipe(c, up) })
		}
	}()
	return p
}

// stall cuts every connection open now, silently.
func (p *stallingProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.current {
		s.Store(true)
	}
	p.current = nil
}

// TestNotifierNoticesASilentlyDeadConnection: a listening connection that
// stops carrying anything without closing (the server's host or the
// network gone) is noticed within about two CheckEvery, given up, and
// replaced; the replica hears the others again.
func TestNotifierNoticesASilentlyDeadConnection(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newStallingProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	direct, err := state.Open(ctx, dbURL, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	proxied, err := state.Open(ctx, u.String(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close()
	h := newHeard()
	opts := h.options()
	opts.CheckEvery = 300 * time.Millisecond
	b := proxied.Notifier("test_channel", opts)
	a := direct.Notifier("test_channel", state.NotifierOptions{Handle: func(json.RawMessage) {}})
	done := make(chan struct{}, 2)
	for _, n := range []*state.Notifier{a, b} {
		go func() { n.Run(ctx); done <- struct{}{} }()
	}
	h.expectListening(t, true)
	a.Publish("before")
	h.expectMessage(t, `"before"`)

	proxy.stall()
	start := time.Now()
	h.expectListening(t, false)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the dead listening connection was noticed after %s", took)
	}
	h.expectListening(t, true)
	a.Publish("after")
	h.expectMessage(t, `"after"`)

	cancel()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}

// TestNotifierSendsAgainWhenTheStoreIsBusy: a notice the store does not
// take at first (its pool has no connection free for longer than a send
// may wait) is sent again, and heard, once it does.
func TestNotifierSendsAgainWhenTheStoreIsBusy(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	busy, err := state.Open(ctx, url, state.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	other, err := state.Open(ctx, url, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	h := newHeard()
	a := busy.Notifier("test_channel", state.NotifierOptions{Handle: func(json.RawMessage) {}})
	b := other.Notifier("test_channel", h.options())
	done := make(chan struct{}, 2)
	for _, n := range []*state.Notifier{a, b} {
		go func() { n.Run(ctx); done <- struct{}{} }()
	}
	h.expectListening(t, true)

	held, err := busy.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.Publish("while busy")
	// Longer than one send waits for a connection.
	time.Sleep(2500 * time.Millisecond)
	held.Release()
	h.expectMessage(t, `"while busy"`)

	cancel()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}
