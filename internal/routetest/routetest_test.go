package routetest

import "testing"

func TestConcretePath(t *testing.T) {
	for pattern, want := range map[string]string{
		"/projects":                                 "/projects",
		"/projects/:id/users/:userId":               "/projects/sample-id/users/sample-userId",
		"/projects/:id/integrations/:provider/keys": "/projects/sample-id/integrations/stack/keys",
	} {
		if got := ConcretePath(pattern); got != want {
			t.Errorf("ConcretePath(%q) = %q, want %q", pattern, got, want)
		}
	}
}
