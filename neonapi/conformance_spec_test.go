package neonapi_test

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi/internal/specvalidate"
)

// TestSpecDrivenRequests stands for a client generated from the spec instead
// of ours: for every branch-level Auth operation and every core operation it
// builds the request from the spec alone (its path, its required parameters,
// a minimal body generated from the request schema) and expects a documented
// success from the sandbox, with every exchange validated against the spec.
//
// The operations run in the order a generated client's user would need: all
// but the deletes from the shallowest path down (creates first at each
// depth), then the deletes from the deepest path up. Ids a create answers
// feed the operations below its path, as a generated client's caller would
// pass them on.
func TestSpecDrivenRequests(t *testing.T) {
	c := newConformance(t)
	fx := conformanceProject(t, c, "spec-driven")
	values := map[string]any{
		// Objects that exist.
		"project_id": fx.project, "branch_id": fx.branch, "database_name": "neondb",
		"oauth_provider_id": "google", "owner_name": "neondb_owner",
		// The configuration operations configure Better Auth.
		"auth_provider": "better_auth",
		// Properties the spec types as bare strings and integers although
		// Neon checks them as a host, a port and an email address.
		"host": "smtp.example.com", "port": 587, "sender_email": "auth@example.com",
	}
	// Neon Auth starts with Google on shared credentials, so adding the
	// spec's first OAuth provider needs Google removed first.
	before := map[string]string{"addBranchNeonAuthOauthProvider": "deleteBranchNeonAuthOauthProvider"}

	ops := specDrivenOps(t, c.spec)
	byID := map[string]specvalidate.Operation{}
	for _, op := range ops {
		byID[op.ID] = op
	}
	for _, op := range ops {
		if pre, ok := before[op.ID]; ok {
			specDrivenCall(t, c, byID[pre], values)
		}
		body := specDrivenCall(t, c, op, values)
		captureID(ops, op, body, values)
	}
	if emails := c.sb.Emails(); len(emails) != 1 || emails[0].To != "user@example.com" {
		t.Errorf("the sandbox recorded %+v, want the one test email", emails)
	}
}

// specDrivenOps returns the operations under test in the order they run.
func specDrivenOps(t *testing.T, spec *specvalidate.Spec) []specvalidate.Operation {
	t.Helper()
	ops := branchAuthOps(spec)
	if len(ops) != wantBranchAuthOps {
		t.Fatalf("the spec has %d branch-level Auth operations, want %d", len(ops), wantBranchAuthOps)
	}
	for _, op := range spec.Operations() {
		if slices.Contains(coreOps, op.ID) {
			ops = append(ops, op)
		}
	}
	if len(ops) != wantBranchAuthOps+len(coreOps) {
		t.Fatalf("found %d operations, want %d", len(ops), wantBranchAuthOps+len(coreOps))
	}
	rank := map[string]int{"POST": 0, "PUT": 1, "PATCH": 2, "GET": 3}
	depth := func(op specvalidate.Operation) int { return strings.Count(op.Path, "/") }
	slices.SortStableFunc(ops, func(a, b specvalidate.Operation) int {
		ad, bd := a.Method == http.MethodDelete, b.Method == http.MethodDelete
		switch {
		case ad != bd:
			if ad {
				return 1
			}
			return -1
		case ad:
			return cmp.Or(depth(b)-depth(a), strings.Compare(a.Path, b.Path))
		}
		return cmp.Or(depth(a)-depth(b), rank[a.Method]-rank[b.Method], strings.Compare(a.Path, b.Path))
	})
	return ops
}

// specDrivenCall sends op's minimal request and returns the answer's body,
// failing unless it is a success.
func specDrivenCall(t *testing.T, c *conformance, op specvalidate.Operation, values map[string]any) []byte {
	t.Helper()
	path, body, err := c.spec.MinimalRequest(op, values)
	if err != nil {
		t.Fatal(err)
	}
	status, answer := c.sendRead(t, op.ID, rawRequest{op.Method, path, string(body)}, true, "")
	t.Logf("%s %s %s -> %d", op.Method, path, body, status)
	if status < 200 || status > 299 {
		t.Errorf("%s %s %s: status %d, body %s; want a success", op.ID, op.Method, path, status, answer)
	}
	return answer
}

// captureID passes an id a create answered to the operations on that object:
// after POST /a/b answers {"id": X}, X fills the parameter of /a/b/{param}.
func captureID(ops []specvalidate.Operation, op specvalidate.Operation, body []byte, values map[string]any) {
	if op.Method != http.MethodPost {
		return
	}
	var answer struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.ID == "" {
		return
	}
	for _, other := range ops {
		rest, ok := strings.CutPrefix(other.Path, op.Path+"/{")
		if ok {
			param, _, _ := strings.Cut(rest, "}")
			values[param] = answer.ID
		}
	}
}
