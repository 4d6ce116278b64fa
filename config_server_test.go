package main

import (
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

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
