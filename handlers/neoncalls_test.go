package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/neonauth"
)

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
				a := newUsersApp(t, usersAppConfig{db: neonauth.UserDBConfig{CacheTTL: tt.connTTL}})
				a.enable(provider)
				a.seedUser(provider, "ada@example.com", "Ada")
				a.neonCounter.Take()

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
					calls := a.neonCounter.Take()
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
