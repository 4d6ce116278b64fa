package handlers

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingTransport counts the HTTP requests the Neon client sends, under its
// retry and rate-limit layers: what Neon sees.
type countingTransport struct {
	mu    sync.Mutex
	paths []string
	total int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths = append(c.paths, r.Method+" "+r.URL.Path)
	c.total++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// count is how many requests were sent so far.
func (c *countingTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// take returns the requests sent since the last take, sorted.
func (c *countingTransport) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.paths
	c.paths = nil
	slices.Sort(p)
	return p
}

// TestUsersPageNeonCalls counts what the users page costs in Neon calls. A
// cold page needs four facts from four endpoints (the project's name, the
// integration's branch and database, the database's owner, a connection
// URI). Once the connection string expires (it holds a password), the
// database's place and owner are still known, so the page needs one call
// beyond its own two, and a fragment one in all.
func TestUsersPageNeonCalls(t *testing.T) {
	tests := []struct {
		name    string
		connTTL time.Duration
		// want is the number of calls for: a cold page, the same page again,
		// then the latest users fragment.
		want [3]int
	}{
		{name: "connection cached", want: [3]int{4, 2, 0}},
		{name: "connection expired each time", connTTL: time.Nanosecond, want: [3]int{4, 3, 1}},
	}
	for _, tt := range tests {
		for _, provider := range providers {
			t.Run(tt.name+"/"+string(provider), func(t *testing.T) {
				a := newUsersApp(t, usersAppConfig{db: UserDBConfig{CacheTTL: tt.connTTL}})
				a.enable(provider)
				a.seedUser(provider, "ada@example.com", "Ada")
				a.neonCounter.take()

				var got [3]int
				for i, step := range []func() *testResponse{
					func() *testResponse { return a.get(a.usersPath(provider)) },
					func() *testResponse { return a.get(a.usersPath(provider)) },
					func() *testResponse {
						return a.htmxGet("/projects/"+a.projectID+"/users/latest?provider="+string(provider), "latest-users")
					},
				} {
					r := step()
					r.wantStatus(t, http.StatusOK)
					if r.byTestID("user-row").Length() != 1 {
						t.Fatalf("step %d shows %d rows, want 1", i, r.byTestID("user-row").Length())
					}
					calls := a.neonCounter.take()
					got[i] = len(calls)
					t.Logf("step %d: %d Neon calls: %s", i, len(calls), strings.Join(calls, ", "))
				}
				if got != tt.want {
					t.Errorf("Neon calls (cold page, page again, fragment) = %v, want %v", got, tt.want)
				}
			})
		}
	}
}
