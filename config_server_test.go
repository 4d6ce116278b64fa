package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadServerLimits(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    serverLimits
		wantErr []string
	}{
		{name: "defaults", want: serverLimits{RequestTimeout: 30 * time.Second, ShutdownGrace: 10 * time.Second}},
		{name: "set", env: map[string]string{"REQUEST_TIMEOUT": "45s", "SHUTDOWN_GRACE": " 1m "},
			want: serverLimits{RequestTimeout: 45 * time.Second, ShutdownGrace: time.Minute}},
		{name: "bad values, all reported", env: map[string]string{"REQUEST_TIMEOUT": "soon", "SHUTDOWN_GRACE": "0s"},
			wantErr: []string{`REQUEST_TIMEOUT="soon" is not a duration`, "SHUTDOWN_GRACE 0s must be between 1s and 10m0s"}},
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
