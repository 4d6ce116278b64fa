package main

import (
	"io"
	"testing"

	"github.com/neonauth-admin/dashboard/handlers"
)

// TestConfigDefaultsAreTheHandlersDefaults: an unset SYNC_TIMEOUT or
// LATEST_USERS means what a zero setting means to the handlers, so the two
// cannot drift apart.
func TestConfigDefaultsAreTheHandlersDefaults(t *testing.T) {
	getenv, environ := envFunc(map[string]string{"NEON_API_KEY": testAPIKey})
	cfg, err := loadConfig(nil, getenv, environ, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SyncTimeout != handlers.DefaultSyncTimeout || cfg.LatestUsers != handlers.DefaultLatestUsers {
		t.Errorf("config defaults sync timeout %s, latest users %d; handlers default to %s, %d",
			cfg.SyncTimeout, cfg.LatestUsers, handlers.DefaultSyncTimeout, handlers.DefaultLatestUsers)
	}
}
