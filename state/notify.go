package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notifier carries small messages between the replicas sharing a store,
// on one Postgres channel: Publish sends through the pool with pg_notify,
// and Run listens on a connection of its own (LISTEN holds one for as long
// as it listens), delivering every other replica's messages to the
// handler. A replica never hears its own: each message names its sender.
//
// Postgres delivers notices only to connected listeners. When the
// connection drops, Run tells OnListening(false), reconnects with backoff,
// and once it listens again tells OnListening(true): what was published in
// between is lost, and the handler's owner must assume it missed some.
//
// A message this replica drops (see Publish) is lost the same way, but to
// the others, which cannot tell. So after a drop the next message that
// gets out says so, and each replica hearing it is told OnMissed before
// its data; when nothing else is waiting, the Notifier sends one that
// carries only that.
type Notifier struct {
	store   *Store
	channel string
	opts    NotifierOptions

	mu   sync.Mutex
	conn *pgx.Conn // the listening connection, nil while there is none
	pid  uint32

	// queue orders Publish's messages (their data) for the one goroutine
	// sending them.
	queue chan json.RawMessage
	// dropped is whether a message was dropped since the last one that got
	// out, which must then tell the others they missed some.
	dropped atomic.Bool
	// nudge wakes the sending goroutine after a drop, so that it tells
	// the others even when nothing else is published.
	nudge chan struct{}
}

// NotifierOptions are what a Notifier does with what it hears.
type NotifierOptions struct {
	// Handle receives the data of each message another replica published.
	Handle func(data json.RawMessage)
	// OnListening is told when the Notifier starts (true) and stops (false)
	// hearing messages; it may be nil.
	OnListening func(listening bool)
	// OnMissed is told that another replica dropped a message since the
	// last one it heard from it: whatever that message would have made
	// wrong must be forgotten. It runs before the Handle of the message
	// that says so, on the goroutine that runs Handle; it may be nil.
	OnMissed func()
	// SendRetryFor is how long a message the store does not take is tried
	// again before it is dropped (default 30s).
	SendRetryFor time.Duration
	// Logger receives the outages; nil discards them.
	Logger *slog.Logger
	// MinBackoff is the first pause before reconnecting (default 100ms);
	// it doubles up to five seconds while connecting fails.
	MinBackoff time.Duration
	// CheckEvery is how long the listener waits for a notice before it
	// checks that its connection still answers (default 15s). A connection
	// whose server or network went away without closing it hears nothing
	// and fails nothing; unchecked, the replica would trust its caches for
	// as long as the kernel takes to notice (many minutes).
	CheckEvery time.Duration
}

// maxNotice is the most data a message may carry: Postgres refuses a
// payload of 8000 bytes or more, and the envelope takes some.
const maxNotice = 7000

// publishQueue bounds the messages waiting to be sent; Publish drops one
// beyond it rather than hold a request.
const publishQueue = 256

// Reconnect backoff of the listening connection: it doubles from
// minBackoff (NotifierOptions.MinBackoff) up to maxBackoff, each pause drawn
// between half and all of it.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// checkEvery is NotifierOptions.CheckEvery's default.
const checkEvery = 15 * time.Second

// notice is the payload of a message. Missed says the sender dropped a
// message since its last one that got out; a notice may carry only that,
// without data.
type notice struct {
	Sender string          `json:"sender"`
	Missed bool            `json:"missed,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// Notifier returns a notifier on channel, a Postgres identifier such as
// "neon_writes". Start it with Run.
func (s *Store) Notifier(channel string, opts NotifierOptions) *Notifier {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OnListening == nil {
		opts.OnListening = func(bool) {}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = minBackoff
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = checkEvery
	}
	if opts.OnMissed == nil {
		opts.OnMissed = func() {}
	}
	if opts.SendRetryFor <= 0 {
		opts.SendRetryFor = sendRetryFor
	}
	return &Notifier{
		store: s, channel: channel, opts: opts,
		queue: make(chan json.RawMessage, publishQueue),
		nudge: make(chan struct{}, 1),
	}
}

// Publish sends data to every other replica listening on the channel. It
// does not wait: one goroutine of Run sends the messages in order, trying
// each again for a while when the store does not take it. A message is
// dropped, with a log line, when it is too large, the queue is full, or the
// store did not take it for SendRetryFor; the replicas then miss it, and
// the next message that gets out tells them so (OnMissed).
func (n *Notifier) Publish(data any) {
	raw, err := json.Marshal(data)
	size := len(raw)
	if err == nil {
		var env []byte
		env, err = json.Marshal(notice{Sender: n.store.replica, Missed: true, Data: raw})
		size = len(env)
	}
	if err != nil || size > maxNotice {
		n.opts.Logger.Warn("state: a notice was not sent: it does not encode within the size Postgres allows", "channel", n.channel, "bytes", size)
		n.drop()
		return
	}
	select {
	case n.queue <- raw:
	default:
		n.opts.Logger.Warn("state: a notice was not sent: too many wait to be sent", "channel", n.channel)
		n.drop()
	}
}

// drop records that a message was dropped, and wakes the sender to say so.
func (n *Notifier) drop() {
	n.dropped.Store(true)
	select {
	case n.nudge <- struct{}{}:
	default:
	}
}

// Run listens until ctx ends, and sends what Publish queued. It returns
// when ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { n.send(ctx) })
	defer wg.Wait()
	backoff := n.opts.MinBackoff
	down := false
	for ctx.Err() == nil {
		conn, err := n.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !down {
				n.opts.Logger.Warn("state: not listening for other replicas' notices; retrying", "channel", n.channel, "err", err)
				down = true
			}
			pause(ctx, backoff)
			backoff = min(backoff*2, max(maxBackoff, n.opts.MinBackoff))
			continue
		}
		if down {
			n.opts.Logger.Info("state: listening for other replicas' notices again", "channel", n.channel)
			down = false
		}
		backoff = n.opts.MinBackoff
		n.opts.OnListening(true)
		err = n.listen(ctx, conn)
		n.opts.OnListening(false)
		n.setConn(nil)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_ = conn.Close(closeCtx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		n.opts.Logger.Warn("state: the connection listening for other replicas' notices dropped; reconnecting", "channel", n.channel, "err", err)
		down = true
		pause(ctx, backoff)
	}
}

// connect opens the listening connection and LISTENs on it.
func (n *Notifier) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(n.store.url)
	if err != nil {
		return nil, errors.New("state: STATE_DATABASE_URL is not a valid Postgres connection string")
	}
	cfg.RuntimeParams["application_name"] = "neon-auth-dashboard-notify"
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{n.channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	n.setConn(conn)
	return conn, nil
}

func (n *Notifier) setConn(conn *pgx.Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conn, n.pid = conn, 0
	if conn != nil {
		n.pid = conn.PgConn().PID()
	}
}

// ListenerPID is the backend process id of the listening connection, or 0
// while there is none: what an operator (or a test) would terminate to cut
// it.
func (n *Notifier) ListenerPID() uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pid
}

// listen delivers notices until the connection fails or ctx ends. After
// CheckEvery without a notice it pings the connection, and gives it up
// when that gets no answer within CheckEvery.
func (n *Notifier) listen(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, n.opts.CheckEvery)
		msg, err := conn.WaitForNotification(wctx)
		idle := err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded)
		cancel()
		if idle && msg == nil {
			// pgx's default context handling only sets a deadline on the
			// socket, so the connection stays usable for the ping.
			pctx, cancel := context.WithTimeout(ctx, n.opts.CheckEvery)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("the listening connection does not answer: %w", err)
			}
			continue
		}
		if msg == nil {
			return err
		}
		var in notice
		if err := json.Unmarshal([]byte(msg.Payload), &in); err != nil || in.Sender == "" {
			n.opts.Logger.Warn("state: a notice was ignored: it is not one of the dashboard's", "channel", n.channel)
			continue
		}
		if in.Sender == n.store.replica {
			continue
		}
		if in.Missed {
			n.opts.OnMissed()
		}
		if len(in.Data) > 0 {
			n.opts.Handle(in.Data)
		}
	}
}

// send publishes the queued messages in order through the pool. After a
// drop with nothing queued, it sends a message that says only that.
func (n *Notifier) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case data := <-n.queue:
			n.sendOne(ctx, data)
		case <-n.nudge:
			if n.dropped.Load() {
				n.sendOne(ctx, nil)
			}
		}
	}
}

// sendRetryFor is NotifierOptions.SendRetryFor's default: how long a
// notice the store does not take is tried again. A notice given up makes
// every other replica forget all it caches once one gets out: a store
// that is briefly slow or out of connections should not cost them that.
const sendRetryFor = 30 * time.Second

// sendOne publishes one notice carrying data (none for one that only says
// messages were dropped), trying again with backoff for up to
// SendRetryFor, the notices after it waiting their turn. Whether a drop
// must be told is taken as the notice leaves, and put back if it does not
// get out.
func (n *Notifier) sendOne(ctx context.Context, data json.RawMessage) {
	start, backoff := time.Now(), n.opts.MinBackoff
	for {
		missed := n.dropped.Swap(false)
		if data == nil && !missed {
			return // a notice sent since told of the drop
		}
		// Publish checked that the notice encodes within maxNotice.
		raw, _ := json.Marshal(notice{Sender: n.store.replica, Missed: missed, Data: data})
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := n.store.pool.Exec(sctx, `SELECT pg_notify($1, $2)`, n.channel, string(raw))
		cancel()
		if err == nil {
			return
		}
		if missed {
			n.dropped.Store(true)
		}
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) >= n.opts.SendRetryFor {
			n.opts.Logger.Warn("state: a notice was not sent: the store did not take it", "channel", n.channel, "err", err)
			n.drop()
			return
		}
		pause(ctx, backoff)
		backoff = min(backoff*2, maxBackoff)
	}
}

// pause waits about d (between half and all of it, so that replicas cut
// off together do not come back together), or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
