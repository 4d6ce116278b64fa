package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// TestUsersPageNeonCalls counts what the users page costs in Neon calls. A
// cold Stack Auth page needs four facts from four endpoints (the project's
// name, the integration's branch and database, the database's owner, a
// connection URI); a branch's Better Auth page reads the branch's Neon Auth
// and the project's branches (for the branch's name and the switcher)
// instead of the integrations list. Once the connection string expires (it
// holds a password), the database's place and owner are still known, so
// each opening of the users table costs one call: the page opens it twice
// (header and first page), the table's refresh twice (rows and the
// header's counts). In production every read goes through the read cache,
// so a page seen again within its TTL costs none.
func TestUsersPageNeonCalls(t *testing.T) {
	tests := []struct {
		name    string
		connTTL time.Duration
		// want is the number of calls for: a cold page, the same page again,
		// then the users table's refresh; per provider.
		want map[authprovider.Provider][3]int
	}{
		{name: "connection cached", want: map[authprovider.Provider][3]int{authprovider.Stack: {4, 2, 0}, authprovider.BetterAuth: {5, 3, 0}}},
		{name: "connection expired each time", connTTL: time.Nanosecond, want: map[authprovider.Provider][3]int{authprovider.Stack: {5, 4, 2}, authprovider.BetterAuth: {6, 5, 2}}},
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
						return a.htmxReload(a.usersSub(provider, "/browse", ""))
					},
				} {
					r := step()
					r.wantStatus(t, http.StatusOK)
					if r.byTestID("browse-row").Length() != 1 {
						t.Fatalf("step %d shows %d rows, want 1", i, r.byTestID("browse-row").Length())
					}
					calls := a.neonCounter.Take()
					got[i] = len(calls)
					t.Logf("step %d: %d Neon calls: %s", i, len(calls), strings.Join(calls, ", "))
				}
				if want := tt.want[authprovider.Provider(provider)]; got != want {
					t.Errorf("Neon calls (cold page, page again, refresh) = %v, want %v", got, want)
				}
			})
		}
	}
}
