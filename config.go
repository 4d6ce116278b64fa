package main

import (
	"cmp"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/secret"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// Defaults for the serve command.
const (
	defaultListen     = "127.0.0.1:8080"
	defaultNeonAPIURL = "https://console.neon.tech/api/v2"
	defaultDemoDBURL  = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultCacheTTL   = 2 * time.Minute
	// defaultFreshness keeps a branch's Neon Auth settings this long unless
	// the dashboard changes them, and serves any read this long past its
	// TTL while it is refreshed.
	defaultFreshness = 15 * time.Minute
	// defaultNeonShare is the percentage of the API key's 700 calls a
	// minute the dashboard spends at most: the key is shared with CI,
	// Terraform, Neon's CLI and other replicas.
	defaultNeonShare = 20
	// maxDemoUsers bounds --demo-users: a few minutes of inserts, a few
	// gigabytes of disk.
	maxDemoUsers = 5_000_000
)

// projectDBPrefix starts the per-project database override variables:
// DATABASE_URL_ROUND_SNOW_123456 applies to project round-snow-123456.
const projectDBPrefix = "DATABASE_URL_"

// Config is the serve command's configuration, read once from the environment
// and flags, validated, then passed down.
//
// Environment (flags, where present, override it):
//
//	LISTEN_ADDR       --listen        address to serve on (default 127.0.0.1:8080)
//	NEON_API_KEY                      Neon API key (required unless --demo; env only so it stays out of ps)
//	NEON_API_URL      --neon-api-url  Neon API base URL (default https://console.neon.tech/api/v2)
//	DATABASE_URL      --database-url  with --demo: the Postgres server backing the sandbox
//	                                  (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable);
//	                                  otherwise: optional connection string used for every integration's database
//	DATABASE_URL_<ID>                 connection string for one project's integration database; <ID> is
//	                                  the project id upper-cased with '-' as '_' (round-snow-123 → ROUND_SNOW_123)
//	SESSION_KEYS                      comma-separated cookie keys, each ≥32 bytes, hex or base64; the first
//	                                  signs new cookies, the others are still accepted (rotation). Generated
//	                                  per process when unset, with a warning.
//	COOKIE_SECURE     --cookie-secure send cookies over HTTPS only (set it behind a TLS proxy)
//	SYNC_TIMEOUT      --sync-timeout  how long the live sync check waits (default 20s)
//	CACHE_TTL         --cache-ttl     how long Neon reads are reused as they are (default 2m; 0 turns caching off)
//	CACHE_FRESHNESS   --cache-freshness how long a branch's Neon Auth settings are kept unless the
//	                                  dashboard changes them, and how long any read past its TTL is
//	                                  still shown while it is refreshed (default 15m; 0 turns both off)
//	NEON_API_RATE     --neon-api-rate calls a minute Neon allows the API key (default 700, Neon's limit;
//	                                  set it if Neon gave your account another)
//	NEON_API_SHARE    --neon-api-share percent of the API key's 700 calls a minute the dashboard may
//	                                  spend (default 20; the key is shared with other tools)
//	USERS_INDEX_ROWS                  users table size from which the browse index is advised (default 100000)
//	                  --demo          run against an in-process Neon API sandbox with a seeded demo project
//	                  --sync-delay    with --demo: how long the sandbox takes to sync a new user (default 500ms)
//	DEMO_USERS        --demo-users    with --demo: how many generated users to add to demo-app and to
//	                                  launchpad's default branch, up to 5,000,000 (default 0); from
//	                                  USERS_INDEX_ROWS their users pages offer an index
//	AUTH_MODE and AUTH_*              who may use the dashboard: none (loopback only, the default), proxy,
//	                                  jwt or oidc, plus the role lists; see docs/security.md
//	ALLOWED_HOSTS                     Host names the dashboard answers to (default any; loopback names only
//	                                  with AUTH_MODE=none)
//	METRICS_TOKEN                     bearer token for /metrics (else loopback only)
//	AUDIT_LOG                         where audit lines go: stderr (default), stdout or a file path
//	AUDIT_RETENTION                   how long the audit trail keeps entries, in days (365d, the default)
//	                                  or as a duration (720h); 0 keeps them forever
//	STATE_DATABASE_URL                the dashboard's own Postgres store, shared by its replicas (audit
//	                                  trail, jobs, the Neon rate budget, cache invalidation); unset: one
//	                                  replica keeping its state in memory (with --demo: a database of its
//	                                  own on DATABASE_URL's server, dropped at exit)
//	JOB_LEASE                         how long a replica holds a background job without a heartbeat
//	                                  (default 30s, at least 1s); another replica takes over the jobs
//	                                  of one that stopped heartbeating
type Config struct {
	Listen       string
	NeonAPIKey   secret.Value
	NeonAPIURL   string
	DatabaseURL  secret.Value
	ProjectDBs   map[string]secret.Value
	SessionKeys  identity.SessionKeys
	SessionGen   bool // SessionKeys were generated because SESSION_KEYS was unset
	CookieSecure bool
	SyncTimeout  time.Duration
	CacheTTL     time.Duration
	// CacheFreshness is the read cache's freshness window (see
	// neonapi.WithFreshness).
	CacheFreshness time.Duration
	// NeonShare is the percentage of Neon's per-key rate budget the
	// dashboard spends at most.
	NeonShare int
	// NeonRate is the per-key rate budget itself, in calls a minute
	// (NEON_API_RATE): Neon's 700 unless Neon gave the account another.
	NeonRate int
	// IndexAdviceRows is USERS_INDEX_ROWS.
	IndexAdviceRows int
	Demo            bool
	SyncDelay       time.Duration
	// DemoUsers is how many generated users the demo adds to each of its
	// two users tables with seeded people (DEMO_USERS).
	DemoUsers int
	// Auth is the identity, role and metrics-access configuration (AUTH_*,
	// METRICS_TOKEN), with SessionKeys and CookieSecure filled in from above.
	Auth identity.AuthConfig
	// AuditLog is where audit lines go: "stderr", "stdout" or a file path.
	AuditLog string
	// AuditRetention is how long the audit trail keeps entries
	// (AUDIT_RETENTION); 0 keeps them forever.
	AuditRetention time.Duration
	// StateDatabaseURL is the state store shared by replicas
	// (STATE_DATABASE_URL); empty runs one replica with state in memory.
	StateDatabaseURL secret.Value
	// JobLease is how long a replica holds a job without a heartbeat
	// (JOB_LEASE): it heartbeats every third of it, and a replica that
	// died has its jobs taken over within about one and a half.
	JobLease time.Duration
}

// String keeps secrets and keys out of any accidental print of the struct.
func (c Config) String() string {
	return fmt.Sprintf("Config{Listen:%s NeonAPIURL:%s Demo:%t SyncTimeout:%s CacheTTL:%s ProjectDBs:%d SessionKeys:%d}",
		c.Listen, c.NeonAPIURL, c.Demo, c.SyncTimeout, c.CacheTTL, len(c.ProjectDBs), len(c.SessionKeys))
}

// GoString is String for %#v, which would otherwise dump the key bytes.
func (c Config) GoString() string { return c.String() }

// UserDBs says how the dashboard reaches integrations' databases: a project's
// own override, else DATABASE_URL, else a connection URI from Neon. In demo
// mode DATABASE_URL is the sandbox's server, not an integration's database.
func (c Config) UserDBs() db.UserDBConfig {
	cfg := db.UserDBConfig{PerProject: make(map[string]string, len(c.ProjectDBs))}
	for id, u := range c.ProjectDBs {
		cfg.PerProject[id] = u.Reveal()
	}
	if !c.Demo {
		cfg.Default = c.DatabaseURL.Reveal()
	}
	return cfg
}

// loadConfig reads the environment and args. getenv and environ are os.Getenv
// and os.Environ outside tests. All problems are reported together.
func loadConfig(args []string, getenv func(string) string, environ []string, stderr io.Writer) (Config, error) {
	var p problems
	env := envReader{getenv: getenv, bad: p.add}
	cfg, dbURL, err := parseServeFlags(args, env, stderr)
	if err != nil {
		return Config{}, err
	}
	cfg.NeonAPIKey = secret.Value(strings.TrimSpace(getenv("NEON_API_KEY")))
	cfg.DatabaseURL = secret.Value(cmp.Or(dbURL, getenv("DATABASE_URL")))
	cfg.IndexAdviceRows = env.intInRange("USERS_INDEX_ROWS", neonauth.DefaultIndexAdviceRows, 1, 1<<31-1)
	cfg.AuditLog = cmp.Or(strings.TrimSpace(getenv("AUDIT_LOG")), "stderr")
	cfg.StateDatabaseURL = secret.Value(strings.TrimSpace(getenv("STATE_DATABASE_URL")))
	if r, err := parseAuditRetention(getenv("AUDIT_RETENTION")); err != nil {
		p.add("%s", err)
	} else {
		cfg.AuditRetention = r
	}
	if cfg.StateDatabaseURL != "" && !validPostgresURL(cfg.StateDatabaseURL.Reveal()) {
		p.add("STATE_DATABASE_URL is not a valid Postgres connection string")
	}
	cfg.JobLease = env.duration("JOB_LEASE", jobs.DefaultLease)
	if cfg.JobLease < time.Second || cfg.JobLease > time.Hour {
		p.add("JOB_LEASE %s must be between 1s and 1h", cfg.JobLease)
	}

	cfg.checkServe(p.add)
	cfg.readDatabases(environ, p.add)
	cfg.readSessionKeys(getenv("SESSION_KEYS"), p.add)
	cfg.readAuth(getenv, p.add)
	if len(p) > 0 {
		sort.Strings(p)
		return Config{}, fmt.Errorf("invalid configuration:\n  - %s", strings.Join(p, "\n  - "))
	}
	return cfg, nil
}

// problems collects what is wrong with the configuration, to report it all
// at once.
type problems []string

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// envReader reads typed settings, reporting malformed ones through bad and
// falling back to the default.
type envReader struct {
	getenv func(string) string
	bad    func(format string, a ...any)
}

func (e envReader) duration(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.bad("%s=%q is not a duration (try 20s or 1m)", name, v)
		return def
	}
	return d
}

func (e envReader) boolean(name string) bool {
	v := e.getenv(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.bad("%s=%q is not a boolean (true or false)", name, v)
	}
	return b
}

func (e envReader) intInRange(name string, def, lo, hi int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.bad("%s=%q must be a whole number from %d to %d", name, v, lo, hi)
		return def
	}
	return n
}

// parseServeFlags reads the flags, whose defaults come from the environment.
// It returns --database-url separately: the environment's DATABASE_URL is
// read after parsing, not used as the flag default, so that -h never prints
// a password.
func parseServeFlags(args []string, env envReader, stderr io.Writer) (Config, string, error) {
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Listen, "listen", cmp.Or(env.getenv("LISTEN_ADDR"), defaultListen), "address to listen on (LISTEN_ADDR)")
	fs.StringVar(&cfg.NeonAPIURL, "neon-api-url", cmp.Or(env.getenv("NEON_API_URL"), defaultNeonAPIURL), "Neon API base URL (NEON_API_URL)")
	dbURL := fs.String("database-url", "", "with --demo, the sandbox's Postgres server; else the database of every integration (DATABASE_URL)")
	fs.BoolVar(&cfg.CookieSecure, "cookie-secure", env.boolean("COOKIE_SECURE"), "mark cookies Secure; set behind HTTPS (COOKIE_SECURE)")
	fs.DurationVar(&cfg.SyncTimeout, "sync-timeout", env.duration("SYNC_TIMEOUT", neonauth.DefaultSyncTimeout), "how long the live sync check waits (SYNC_TIMEOUT)")
	fs.DurationVar(&cfg.CacheTTL, "cache-ttl", env.duration("CACHE_TTL", defaultCacheTTL), "how long Neon reads are reused; 0 disables (CACHE_TTL)")
	fs.DurationVar(&cfg.CacheFreshness, "cache-freshness", env.duration("CACHE_FRESHNESS", defaultFreshness), "how long Neon Auth settings are kept unless changed here, and stale reads shown while refreshed; 0 disables (CACHE_FRESHNESS)")
	fs.IntVar(&cfg.NeonRate, "neon-api-rate", env.intInRange("NEON_API_RATE", neonapi.DefaultRequestsPerMinute, 1, 1_000_000), "calls a minute Neon allows the API key (NEON_API_RATE)")
	fs.IntVar(&cfg.NeonShare, "neon-api-share", env.intInRange("NEON_API_SHARE", defaultNeonShare, 1, 100), "percent of the API key's 700 calls a minute to spend at most (NEON_API_SHARE)")
	fs.BoolVar(&cfg.Demo, "demo", false, "serve a seeded demo against an in-process Neon API sandbox")
	fs.DurationVar(&cfg.SyncDelay, "sync-delay", 500*time.Millisecond, "with --demo, how long the sandbox takes to sync a user")
	fs.IntVar(&cfg.DemoUsers, "demo-users", env.intInRange("DEMO_USERS", 0, 0, maxDemoUsers), "with --demo, how many generated users to add to demo-app and launchpad; USERS_INDEX_ROWS of them bring up the index advisor (DEMO_USERS)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: dashboard serve [flags]\n\nSecrets come from the environment only: NEON_API_KEY, SESSION_KEYS, DATABASE_URL_<PROJECT_ID>.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, "", err
	}
	if fs.NArg() > 0 {
		env.bad("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, *dbURL, nil
}

// checkServe checks the listen address, the Neon API settings and the
// duration ranges.
func (cfg *Config) checkServe(bad func(string, ...any)) {
	if _, port, err := net.SplitHostPort(cfg.Listen); err != nil || port == "" {
		bad("listen address %q must be host:port, e.g. 127.0.0.1:8080", cfg.Listen)
	}
	if !cfg.Demo {
		if cfg.NeonAPIKey == "" {
			bad("NEON_API_KEY is not set (create one in the Neon Console under Account settings → API keys, or run with --demo)")
		}
		if u, err := url.Parse(cfg.NeonAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("NEON_API_URL %q must be an absolute http(s) URL", cfg.NeonAPIURL)
		}
	}
	if cfg.SyncTimeout <= 0 || cfg.SyncTimeout > 5*time.Minute {
		bad("SYNC_TIMEOUT %s must be between 1s and 5m", cfg.SyncTimeout)
	}
	if cfg.CacheFreshness < 0 || cfg.CacheFreshness > 24*time.Hour {
		bad("CACHE_FRESHNESS %s must be between 0 and 24h", cfg.CacheFreshness)
	}
	if cfg.NeonShare < 1 || cfg.NeonShare > 100 {
		bad("NEON_API_SHARE %d must be a percentage from 1 to 100", cfg.NeonShare)
	}
	if cfg.CacheTTL < 0 || cfg.CacheTTL > 10*time.Minute {
		bad("CACHE_TTL %s must be between 0 and 10m", cfg.CacheTTL)
	}
	if cfg.SyncDelay < 0 || cfg.SyncDelay > time.Minute {
		bad("--sync-delay %s must be between 0 and 1m", cfg.SyncDelay)
	}
	switch {
	case cfg.DemoUsers < 0 || cfg.DemoUsers > maxDemoUsers:
		bad("--demo-users %d must be a whole number from 0 to %d (%d is enough for the index advisor)", cfg.DemoUsers, maxDemoUsers, cfg.IndexAdviceRows)
	case cfg.DemoUsers > 0 && !cfg.Demo:
		bad("--demo-users (DEMO_USERS) adds users to the demo only: add --demo, or unset it")
	}
}

// readDatabases checks DATABASE_URL and reads the DATABASE_URL_<ID>
// overrides from environ.
func (cfg *Config) readDatabases(environ []string, bad func(string, ...any)) {
	if cfg.Demo && cfg.DatabaseURL == "" {
		cfg.DatabaseURL = defaultDemoDBURL
	}
	if cfg.DatabaseURL != "" && !validPostgresURL(cfg.DatabaseURL.Reveal()) {
		bad("DATABASE_URL is not a valid Postgres connection string")
	}
	cfg.ProjectDBs = map[string]secret.Value{}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, projectDBPrefix) || len(name) == len(projectDBPrefix) {
			continue
		}
		id, ok := projectIDFromEnv(strings.TrimPrefix(name, projectDBPrefix))
		if !ok {
			bad("%s: the suffix must be a project id in upper case with '_' for '-'", name)
			continue
		}
		if !validPostgresURL(val) {
			bad("%s is not a valid Postgres connection string", name)
			continue
		}
		cfg.ProjectDBs[id] = secret.Value(val)
	}
}

// readSessionKeys reads SESSION_KEYS, or makes a key for this process only.
func (cfg *Config) readSessionKeys(raw string, bad func(string, ...any)) {
	if raw == "" {
		key := make([]byte, identity.MinSessionKeyBytes)
		_, _ = rand.Read(key)
		cfg.SessionKeys = identity.SessionKeys{key}
		cfg.SessionGen = true
		return
	}
	keys, err := identity.ParseSessionKeys(raw)
	var each interface{ Unwrap() []error }
	switch {
	case errors.As(err, &each):
		for _, e := range each.Unwrap() {
			bad("%v", e)
		}
	case err != nil:
		bad("%v", err)
	}
	cfg.SessionKeys = keys
}

// readAuth reads the identity settings (AUTH_*, METRICS_TOKEN) and checks
// them against the listen address.
func (cfg *Config) readAuth(getenv func(string) string, bad func(string, ...any)) {
	auth, err := identity.ParseAuthEnv(getenv)
	if err != nil {
		bad("%v", err)
		return
	}
	auth.CookieSecure = cfg.CookieSecure
	if !cfg.SessionGen {
		// A per-process key would sign everybody out at each restart, so
		// OIDC mode insists on configured keys.
		auth.SessionKeys = cfg.SessionKeys
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err == nil {
		if err := auth.Validate(cfg.Listen); err != nil {
			bad("%v", err)
		}
	}
	cfg.Auth = auth
}

// projectIDPattern is the shape of a Neon project id.
var projectIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,60}$`)

// projectIDFromEnv maps ROUND_SNOW_123 back to round-snow-123.
func projectIDFromEnv(suffix string) (string, bool) {
	id := strings.ReplaceAll(strings.ToLower(suffix), "_", "-")
	return id, projectIDPattern.MatchString(id)
}

// validPostgresURL accepts what pgx accepts (URLs and key=value strings),
// without ever echoing the string, which may hold a password.
func validPostgresURL(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	_, err := pgx.ParseConfig(s)
	return err == nil
}
