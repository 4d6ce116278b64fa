package handlers

import (
	"flag"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/identity"
)

var update = flag.Bool("update", false, "rewrite docs/routes.md from the route table")

// TestRouteTable fails for a state-changing route without an audit action or
// a role, and for a route the router serves that the table does not list.
func TestRouteTable(t *testing.T) {
	routes := (&Handler{}).Routes()
	if err := identity.CheckRules(Rules(routes)); err != nil {
		t.Fatalf("route table: %v", err)
	}
	listed := map[string]Route{}
	mutating := 0
	for _, r := range routes {
		listed[r.Method+" "+r.Path] = r
		if r.Handler == nil || r.Doc == "" {
			t.Errorf("%s %s: no handler or no doc", r.Method, r.Path)
		}
		if !identity.Mutating(r.Method) {
			continue
		}
		mutating++
		if r.Audit == "" {
			t.Errorf("%s %s changes state but has no audit action", r.Method, r.Path)
		}
		switch {
		case r.Access == identity.Admin, r.Path == identity.LogoutPath:
		case r.Access == identity.Viewer && viewerPosts[r.Method+" "+r.Path]:
		default:
			t.Errorf("%s %s changes state with access %q; only signing out is open to every role, and only viewerPosts to viewers", r.Method, r.Path, r.Access)
		}
	}
	if mutating < 8 {
		t.Errorf("%d state-changing routes in the table, want at least 8", mutating)
	}
	for _, r := range (&Handler{}).Echo().Routes() {
		if r.Method == echoRouteNotFound {
			continue
		}
		if _, ok := listed[r.Method+" "+r.Path]; !ok {
			t.Errorf("the router serves %s %s, which the route table does not list", r.Method, r.Path)
		}
	}
}

// viewerPosts are the state-changing routes open to viewers: they change
// nothing in Neon, only what the dashboard itself remembers.
var viewerPosts = map[string]bool{
	"POST /projects/:id/refresh": true,
}

// TestCheckRulesRefusesUnsafeEntries shows the table check can fail: each
// entry here breaks one rule.
func TestCheckRulesRefusesUnsafeEntries(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule identity.Rule
		want string
	}{
		{"no audit action", identity.Rule{Method: http.MethodPost, Path: "/x", Access: identity.Admin}, "no audit action"},
		{"no role", identity.Rule{Method: http.MethodDelete, Path: "/x", Audit: "x.delete"}, "access \"\""},
		{"public mutation", identity.Rule{Method: http.MethodPut, Path: "/x", Access: identity.Public, Audit: "x.put"}, "cannot be public"},
		{"probe mutation", identity.Rule{Method: http.MethodPatch, Path: "/x", Access: identity.Probe, Audit: "x.patch"}, "cannot be probe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.CheckRules([]identity.Rule{tc.rule})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckRules = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestRoutesDoc keeps docs/routes.md generated from the table.
func TestRoutesDoc(t *testing.T) {
	const path = "../docs/routes.md"
	want := RouteDoc((&Handler{}).Routes())
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers -run TestRoutesDoc -update)", err)
	}
	if string(got) != want {
		t.Errorf("docs/routes.md is out of date with the route table; run go test ./handlers -run TestRoutesDoc -update")
	}
}
