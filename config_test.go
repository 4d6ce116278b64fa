package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
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
				if c.Listen != "127.0.0.1:8080" || c.NeonAPIURL != "https://console.neon.tech/api/v2" || c.SyncTimeout != 20*time.Second || c.CacheTTL != 15*time.Second {
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
