package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/logtest"
	"github.com/neonauth-admin/dashboard/internal/routetest"
)

// lockedBuffer is a log sink that tests read while servers write.
type lockedBuffer = logtest.Buffer

// The people the security configuration below knows.
const (
	adminEmail  = "ada@example.com"
	viewerEmail = "vic@example.com"
)

// secAuthConfig is proxy mode behind 10.0.0.0/8, with one admin and viewers
// by domain.
func secAuthConfig(t *testing.T) identity.AuthConfig {
	t.Helper()
	env := map[string]string{
		"AUTH_MODE":           "proxy",
		"AUTH_PROXY_TRUSTED":  "10.0.0.0/8",
		"AUTH_ADMIN_EMAILS":   strings.ToUpper(adminEmail),
		"AUTH_VIEWER_DOMAINS": "example.com",
		"AUTH_CONTACT":        "#platform-team",
	}
	cfg, err := identity.ParseAuthEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// serve sends r to e and returns the recorded answer.
func serve(e http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// concretePath fills a route pattern's parameters with sample values.
var concretePath = routetest.ConcretePath
