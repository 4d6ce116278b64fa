package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

const testAPIKey = "napi_k3y_that_must_never_show"

func envFunc(m map[string]string) (func(string) string, []string) {
	var environ []string
	for k, v := range m {
		environ = append(environ, k+"="+v)
	}
	return func(k string) string { return m[k] }, environ
}

func TestLoadConfig(t *testing.T) {
	key32 := hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c Config)
	}{
		{
			name: "defaults",
			env:  map[string]string{"NEON_API_KEY": testAPIKey},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:8080" || c.NeonAPIURL != "https://console.neon.tech/api/v2" || c.SyncTimeout != 20*time.Second || c.CacheTTL != 2*time.Minute {
					t.Errorf("defaults = %s", c)
				}
				if !c.SessionGen || len(c.SessionKeys) != 1 || len(c.SessionKeys[0]) != 32 {
					t.Error("no session key generated")
				}
			},
		},
		{
			name: "flags override env",
			env:  map[string]string{"NEON_API_KEY": testAPIKey, "LISTEN_ADDR": "0.0.0.0:1", "SYNC_TIMEOUT": "5s"},
			args: []string{"--listen", "127.0.0.1:9999", "--sync-timeout", "30s"},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:9999" || c.SyncTimeout != 30*time.Second {
					t.Errorf("listen %s, sync timeout %s", c.Listen, c.SyncTimeout)
				}
			},
		},
		{
			name: "session keys: hex and base64, order kept",
			env: map[string]string{"NEON_API_KEY": testAPIKey,
				"SESSION_KEYS": key32 + ", " + base64.StdEncoding.EncodeToString([]byte("abcdefghijklmnopqrstuvwxyz0123456789"))},
			check: func(t *testing.T, c Config) {
				if c.SessionGen || len(c.SessionKeys) != 2 || string(c.SessionKeys[0]) != "0123456789abcdef0123456789abcdef" || len(c.SessionKeys[1]) != 36 {
					t.Errorf("session keys = %d, generated %t", len(c.SessionKeys), c.SessionGen)
				}
			},
		},
		{
			name: "per-project database overrides",
			env: map[string]string{"NEON_API_KEY": testAPIKey, "DATABASE_URL": "postgres://u:pw@db:5432/all",
				"DATABASE_URL_ROUND_SNOW_123456": "postgres://u:pw@db:5432/one"},
			check: func(t *testing.T, c Config) {
				dbs := c.UserDBs()
				if got := dbs.PerProject["round-snow-123456"]; got != "postgres://u:pw@db:5432/one" || len(dbs.PerProject) != 1 {
					t.Errorf("overrides = %d, round-snow-123456 = %q", len(dbs.PerProject), got)
				}
				if dbs.Default != "postgres://u:pw@db:5432/all" {
					t.Errorf("default = %q", dbs.Default)
				}
			},
		},
		{
			name: "demo needs no key and defaults its backing server",
			args: []string{"--demo"},
			check: func(t *testing.T, c Config) {
				// DATABASE_URL backs the sandbox; the integrations' databases
				// come from the sandbox's connection URIs.
				if !c.Demo || c.DatabaseURL.Reveal() != defaultDemoDBURL || c.UserDBs().Default != "" {
					t.Errorf("demo config = %s, users' default database %q", c, c.UserDBs().Default)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv, environ := envFunc(tc.env)
			c, err := loadConfig(tc.args, getenv, environ, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadConfigListsEveryProblemWithoutSecrets(t *testing.T) {
	getenv, environ := envFunc(map[string]string{
		"NEON_API_KEY":        testAPIKey,
		"NEON_API_URL":        "console.neon.tech",
		"LISTEN_ADDR":         "8080",
		"SESSION_KEYS":        "tooshort,zz-not-hex-or-base64!!",
		"SYNC_TIMEOUT":        "soon",
		"DATABASE_URL":        "postgres://user:hunter2@db:notaport/x",
		"DATABASE_URL_MY.APP": "postgres://u@h/db",
	})
	_, err := loadConfig(nil, getenv, environ, io.Discard)
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	msg := err.Error()
	for _, want := range []string{"NEON_API_URL", "listen address", "SESSION_KEYS entry 1", "SESSION_KEYS entry 2", "SYNC_TIMEOUT", "DATABASE_URL is not", "DATABASE_URL_MY.APP"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %s:\n%s", want, msg)
		}
	}
	for _, secret := range []string{testAPIKey, "hunter2", "tooshort"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error reveals %q:\n%s", secret, msg)
		}
	}

	getenv, environ = envFunc(map[string]string{})
	if _, err := loadConfig(nil, getenv, environ, io.Discard); err == nil || !strings.Contains(err.Error(), "NEON_API_KEY is not set") {
		t.Errorf("missing key: %v", err)
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	getenv, environ := envFunc(map[string]string{"NEON_API_KEY": testAPIKey, "DATABASE_URL": "postgres://u:hunter2@db/x",
		"SESSION_KEYS": hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	c, err := loadConfig(nil, getenv, environ, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, c) + fmt.Sprintf(verb, c.NeonAPIKey) + fmt.Sprintf(verb, c.DatabaseURL)
		for _, secret := range []string{testAPIKey, "hunter2", "0123456789abcdef"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s prints %q: %s", verb, secret, out)
			}
		}
	}
}

func TestHelpNeverPrintsSecrets(t *testing.T) {
	getenv, environ := envFunc(map[string]string{"NEON_API_KEY": testAPIKey, "DATABASE_URL": "postgres://u:hunter2@db/x"})
	var out strings.Builder
	if _, err := loadConfig([]string{"-h"}, getenv, environ, &out); err == nil {
		t.Fatal("-h: want flag.ErrHelp")
	}
	if !strings.Contains(out.String(), "-database-url") {
		t.Fatalf("help does not list the flags:\n%s", out.String())
	}
	for _, secret := range []string{testAPIKey, "hunter2"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("help prints %q:\n%s", secret, out.String())
		}
	}
}

// defaultLanes are the lanes with no USERS_DB_* variable set and the
// default REQUEST_TIMEOUT.
var defaultLanes = db.PoolOptions{
	Fast:   db.LaneLimits{MaxConns: 4, AcquireWait: 2 * time.Second},
	Slow:   db.LaneLimits{MaxConns: 2, AcquireWait: time.Second, StatementTimeout: 15 * time.Second},
	Export: db.LaneLimits{MaxConns: 1, AcquireWait: time.Second, StatementTimeout: db.NoStatementTimeout},
}

func TestLoadServerLimits(t *testing.T) {
	lanes := func(edit func(*db.PoolOptions)) db.PoolOptions {
		o := defaultLanes
		edit(&o)
		return o
	}
	cases := []struct {
		name    string
		env     map[string]string
		want    serverLimits
		wantErr []string
	}{
		{name: "defaults", want: serverLimits{RequestTimeout: 30 * time.Second, ShutdownGrace: 10 * time.Second, UsersDB: defaultLanes}},
		{name: "set", env: map[string]string{"REQUEST_TIMEOUT": "45s", "SHUTDOWN_GRACE": " 1m "},
			want: serverLimits{RequestTimeout: 45 * time.Second, ShutdownGrace: time.Minute, UsersDB: defaultLanes}},
		{name: "bad values, all reported", env: map[string]string{"REQUEST_TIMEOUT": "soon", "SHUTDOWN_GRACE": "0s"},
			wantErr: []string{`REQUEST_TIMEOUT="soon" is not a duration`, "SHUTDOWN_GRACE 0s must be between 1s and 10m0s"}},
		{
			name: "lanes set",
			env: map[string]string{
				"USERS_DB_FAST_CONNS": "8", "USERS_DB_FAST_WAIT": "500ms",
				"USERS_DB_SLOW_CONNS": "3", "USERS_DB_SLOW_WAIT": "750ms", "USERS_DB_SLOW_TIMEOUT": "20s",
				"USERS_DB_EXPORT_CONNS": "2",
			},
			want: serverLimits{RequestTimeout: 30 * time.Second, ShutdownGrace: 10 * time.Second, UsersDB: db.PoolOptions{
				Fast:   db.LaneLimits{MaxConns: 8, AcquireWait: 500 * time.Millisecond},
				Slow:   db.LaneLimits{MaxConns: 3, AcquireWait: 750 * time.Millisecond, StatementTimeout: 20 * time.Second},
				Export: db.LaneLimits{MaxConns: 2, AcquireWait: 750 * time.Millisecond, StatementTimeout: db.NoStatementTimeout},
			}},
		},
		{
			name: "slow statement timeout off",
			env:  map[string]string{"USERS_DB_SLOW_TIMEOUT": "0"},
			want: serverLimits{RequestTimeout: 30 * time.Second, ShutdownGrace: 10 * time.Second,
				UsersDB: lanes(func(o *db.PoolOptions) { o.Slow.StatementTimeout = db.NoStatementTimeout })},
		},
		{
			// The defaults give way to a short request, which then still
			// has time to say "busy" or "took too long".
			name: "short request timeout",
			env:  map[string]string{"REQUEST_TIMEOUT": "2s"},
			want: serverLimits{RequestTimeout: 2 * time.Second, ShutdownGrace: 10 * time.Second,
				UsersDB: lanes(func(o *db.PoolOptions) {
					o.Fast.AcquireWait, o.Slow.StatementTimeout = time.Second, time.Second
				})},
		},
		{
			name: "bad lanes, all reported",
			env: map[string]string{
				"USERS_DB_FAST_CONNS": "0", "USERS_DB_SLOW_CONNS": "many", "USERS_DB_EXPORT_CONNS": "51",
				"USERS_DB_FAST_WAIT": "1ms", "USERS_DB_SLOW_WAIT": "later",
			},
			wantErr: []string{
				`USERS_DB_FAST_CONNS="0" must be a whole number from 1 to 50`,
				`USERS_DB_SLOW_CONNS="many" must be a whole number from 1 to 50`,
				`USERS_DB_EXPORT_CONNS="51" must be a whole number from 1 to 50`,
				"USERS_DB_FAST_WAIT 1ms must be between 10ms and 1m0s",
				`USERS_DB_SLOW_WAIT="later" is not a duration`,
			},
		},
		{
			name: "lane limits longer than the request",
			env:  map[string]string{"REQUEST_TIMEOUT": "20s", "USERS_DB_SLOW_TIMEOUT": "20s", "USERS_DB_FAST_WAIT": "30s"},
			wantErr: []string{
				"USERS_DB_SLOW_TIMEOUT 20s must be shorter than REQUEST_TIMEOUT 20s",
				"USERS_DB_FAST_WAIT 30s must be shorter than REQUEST_TIMEOUT 20s",
			},
		},
		{
			name:    "slow statement timeout too short",
			env:     map[string]string{"USERS_DB_SLOW_TIMEOUT": "5ms"},
			wantErr: []string{"USERS_DB_SLOW_TIMEOUT 5ms must be 0 (off) or at least 100ms"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv, _ := envFunc(tc.env)
			got, err := loadServerLimits(getenv)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestNeonBudgetSettings(t *testing.T) {
	base := map[string]string{"NEON_API_KEY": testAPIKey}
	getenv, environ := envFunc(base)
	cfg, err := loadConfig(nil, getenv, environ, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NeonShare != defaultNeonShare || cfg.CacheFreshness != defaultFreshness {
		t.Errorf("defaults: share %d freshness %s", cfg.NeonShare, cfg.CacheFreshness)
	}
	for _, tt := range []struct{ share, perMinute, burst int }{{20, 140, 20}, {100, 700, 40}, {1, 7, 20}, {50, 350, 40}} {
		if pm, burst := neonBudget(700, tt.share); pm != tt.perMinute || burst != tt.burst {
			t.Errorf("a %d%% share: %d/min burst %d, want %d/min burst %d", tt.share, pm, burst, tt.perMinute, tt.burst)
		}
	}
	if cfg.NeonRate != 700 {
		t.Errorf("NEON_API_RATE defaults to %d, want Neon's 700", cfg.NeonRate)
	}
	if pm, burst := neonBudget(10000, 20); pm != 2000 || burst != 40 {
		t.Errorf("a 20%% share of 10,000 a minute: %d/min burst %d, want 2000/min burst 40", pm, burst)
	}
	cfg, err = loadConfig([]string{"--neon-api-share", "5", "--cache-freshness", "0"}, getenv, environ, io.Discard)
	if err != nil || cfg.NeonShare != 5 || cfg.CacheFreshness != 0 {
		t.Errorf("flags: %+v, %v", cfg, err)
	}
	for _, bad := range []map[string]string{
		{"NEON_API_SHARE": "0"}, {"NEON_API_SHARE": "101"}, {"NEON_API_SHARE": "half"},
		{"CACHE_FRESHNESS": "-1m"}, {"CACHE_FRESHNESS": "48h"}, {"CACHE_FRESHNESS": "later"},
	} {
		env := map[string]string{"NEON_API_KEY": testAPIKey}
		for k, v := range bad {
			env[k] = v
		}
		getenv, environ := envFunc(env)
		var name string
		for k := range bad {
			name = k
		}
		if _, err := loadConfig(nil, getenv, environ, io.Discard); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err %v, want one naming %s", bad, err, name)
		}
	}
}

func TestDemoUsersSetting(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		want    int
		wantErr string
	}{
		{name: "default", args: []string{"--demo"}, want: 0},
		{name: "flag", args: []string{"--demo", "--demo-users", "200000"}, want: 200000},
		{name: "environment", env: map[string]string{"DEMO_USERS": "150000"}, args: []string{"--demo"}, want: 150000},
		{name: "flag over environment", env: map[string]string{"DEMO_USERS": "150000"}, args: []string{"--demo", "--demo-users", "0"}, want: 0},
		{name: "the most", args: []string{"--demo", "--demo-users", strconv.Itoa(maxDemoUsers)}, want: maxDemoUsers},
		{name: "too many", args: []string{"--demo", "--demo-users", strconv.Itoa(maxDemoUsers + 1)}, wantErr: "--demo-users 5000001 must be a whole number from 0 to 5000000"},
		{name: "too many in the environment", env: map[string]string{"DEMO_USERS": "6000000"}, args: []string{"--demo"}, wantErr: `DEMO_USERS="6000000" must be a whole number from 0 to 5000000`},
		{name: "negative", args: []string{"--demo", "--demo-users", "-1"}, wantErr: "--demo-users -1 must be a whole number"},
		{name: "not a number", env: map[string]string{"DEMO_USERS": "lots"}, args: []string{"--demo"}, wantErr: `DEMO_USERS="lots"`},
		{name: "without the demo", env: map[string]string{"NEON_API_KEY": testAPIKey}, args: []string{"--demo-users", "1000"}, wantErr: "add --demo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv, environ := envFunc(tc.env)
			c, err := loadConfig(tc.args, getenv, environ, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.DemoUsers != tc.want {
				t.Errorf("DemoUsers %d, err %v; want %d", c.DemoUsers, err, tc.want)
			}
		})
	}
}
