package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSyncDelay is how long a created user takes to reach the database when
// Config.SyncDelay is zero: about what Neon's sync takes.
const DefaultSyncDelay = 500 * time.Millisecond

// Config configures a Sandbox.
type Config struct {
	// DatabaseURL is an administrative postgres:// URL of the backing server: the
	// sandbox creates and drops databases and roles through it (its user needs
	// CREATEDB and CREATEROLE). Connection URIs carry the branch roles'
	// credentials, never these.
	DatabaseURL string
	// APIKey, when set, is the only bearer token accepted; otherwise any
	// non-empty token is.
	APIKey string
	// SyncDelay is how long a user write takes to reach the database: zero means
	// DefaultSyncDelay, negative means at once.
	SyncDelay time.Duration
	// OperationTime is how long each operation (create_branch,
	// start_compute, apply_config, ...) reports running before it finishes:
	// zero means DefaultOperationTime, negative means finished at once.
	OperationTime time.Duration
	// Logger receives one line per request and the sync worker's failures;
	// nil discards them.
	Logger *slog.Logger
	// RateLimitPerMinute, when positive, limits each API key as Neon does:
	// that many calls a minute with bursts of up to NeonBurst, a call over
	// it answered 429 with Retry-After. Zero turns the limit off.
	RateLimitPerMinute int
}

// String keeps the API key out of any print of the configuration.
func (c Config) String() string {
	return fmt.Sprintf("sandbox.Config{APIKey set:%t SyncDelay:%s RateLimitPerMinute:%d}", c.APIKey != "", c.SyncDelay, c.RateLimitPerMinute)
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

// Sandbox is a running Neon API emulator. It is safe for concurrent use.
type Sandbox struct {
	cfg     Config
	log     *slog.Logger
	pg      *backend
	handler http.Handler
	// mux is the route table under the middleware; tests read which
	// operation a request reaches from it.
	mux       *http.ServeMux
	accountID string

	// ctx ends when the sandbox closes; sync workers run under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	bgMu   sync.Mutex // orders goroutine starts before Close's wait
	closed atomic.Bool
	close  sync.Once
	closeE error

	mu        sync.RWMutex
	projects  map[string]*project
	order     []*project // creation order, for listProjects
	projSeq   int64
	dbSeq     int64
	transfers map[string]*integration // open transfer codes
	keys      apiKeys                 // made with createApiKey
	emails    []Email                 // test emails "sent", oldest first

	sync     syncControl
	faults   faultTable
	requests *requestStats
}

// New connects to the backing server and returns a sandbox with no projects.
// Close it to drop the databases it created.
func New(ctx context.Context, cfg Config) (*Sandbox, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("sandbox: Config.DatabaseURL is required")
	}
	switch {
	case cfg.SyncDelay == 0:
		cfg.SyncDelay = DefaultSyncDelay
	case cfg.SyncDelay < 0:
		cfg.SyncDelay = 0
	}
	switch {
	case cfg.OperationTime == 0:
		cfg.OperationTime = DefaultOperationTime
	case cfg.OperationTime < 0:
		cfg.OperationTime = 0
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pg, err := newBackend(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	s := &Sandbox{
		cfg:       cfg,
		log:       log,
		pg:        pg,
		accountID: "sandbox-" + pg.prefix,
		projects:  make(map[string]*project),
		transfers: make(map[string]*integration),
		requests:  newRequestStats(cfg.RateLimitPerMinute),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sync.init(cfg.SyncDelay)
	s.handler = s.routes()
	return s, nil
}

// String keeps the API key and the backing server's credentials out of any
// print of the sandbox.
func (s *Sandbox) String() string {
	return fmt.Sprintf("sandbox.Sandbox{databases:nsb_%s_*}", s.pg.prefix)
}

// GoString is String for %#v.
func (s *Sandbox) GoString() string { return s.String() }

// Handler serves the API under /api/v2 and the control endpoints under /_sandbox.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Close stops the sync workers, dropping writes still queued, and drops the
// databases the sandbox created. It is safe to call more than once.
func (s *Sandbox) Close() error {
	s.close.Do(func() {
		s.bgMu.Lock()
		s.closed.Store(true)
		s.bgMu.Unlock()
		s.cancel()
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s.closeE = s.pg.close(ctx)
	})
	return s.closeE
}

// goBackground runs f on its own goroutine unless the sandbox is closing;
// Close waits for it.
func (s *Sandbox) goBackground(f func()) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closed.Load() {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// WaitForSync blocks until every queued user write has reached its database,
// or ctx ends. With sync mode "never" it waits for ctx.
func (s *Sandbox) WaitForSync(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for s.sync.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("sandbox: %d user writes still queued: %w", s.sync.pending.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
