package specvalidate

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

func operationByID(t *testing.T, s *Spec, id string) Operation {
	t.Helper()
	for _, op := range s.Operations() {
		if op.ID == id {
			return op
		}
	}
	t.Fatalf("no operation %s", id)
	return Operation{}
}

// TestMinimalRequest checks the generated requests on the schema shapes the
// spec-driven test meets: a oneOf with a discriminator, an allOf, enums,
// formats, minimums, an optional body, and parameters that must be given.
func TestMinimalRequest(t *testing.T) {
	s, err := Load(specPath, "http://sandbox.test/api/v2")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]any{"project_id": "p-1", "branch_id": "br-1", "oauth_provider_id": "github", "host": "smtp.example.com"}
	tests := []struct {
		op, wantPath string
		wantKeys     []string // the body's top-level keys; nil for no body
		check        func(body map[string]any) bool
	}{
		{"updateNeonAuthEmailProvider", "/projects/p-1/branches/br-1/auth/email_provider",
			[]string{"host", "password", "port", "sender_email", "sender_name", "type", "username"},
			func(b map[string]any) bool { return b["type"] == "standard" && b["host"] == "smtp.example.com" }},
		{"sendNeonAuthTestEmail", "/projects/p-1/branches/br-1/auth/send_test_email",
			[]string{"host", "password", "port", "recipient_email", "sender_email", "sender_name", "username"},
			func(b map[string]any) bool { return b["recipient_email"] == "user@example.com" && b["type"] == nil }},
		{"addBranchNeonAuthTrustedDomain", "/projects/p-1/branches/br-1/auth/domains",
			[]string{"auth_provider", "domain"},
			func(b map[string]any) bool {
				return b["auth_provider"] == "mock" && b["domain"] == "https://example.com"
			}},
		{"updateNeonAuthUserRole", "/projects/p-1/branches/br-1/auth/users/u-1/role", []string{"roles"},
			func(b map[string]any) bool { r, _ := b["roles"].([]any); return len(r) == 1 }},
		{"updateBranchNeonAuthOauthProvider", "/projects/p-1/branches/br-1/auth/oauth_providers/github", []string{}, nil},
		{"updateNeonAuthMagicLinkPlugin", "/projects/p-1/branches/br-1/auth/plugins/magic-link", []string{}, nil},
		{"disableNeonAuth", "/projects/p-1/branches/br-1/auth", nil, nil},
		{"createProjectBranch", "/projects/p-1/branches", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			values := maps.Clone(ids)
			values["auth_user_id"] = "u-1"
			path, body, err := s.MinimalRequest(operationByID(t, s, tt.op), values)
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath {
				t.Errorf("path %s, want %s", path, tt.wantPath)
			}
			if tt.wantKeys == nil {
				if body != nil {
					t.Errorf("body %s, want none", body)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("body %s has keys %v, want %v", body, keys, tt.wantKeys)
			}
			if tt.check != nil && !tt.check(got) {
				t.Errorf("body %s", body)
			}
		})
	}

	// A path parameter without a value and without an enum cannot be made up.
	if _, _, err := s.MinimalRequest(operationByID(t, s, "getProjectBranch"), map[string]any{"project_id": "p-1"}); err == nil || !strings.Contains(err.Error(), "branch_id") {
		t.Errorf("getProjectBranch without a branch id: error %v, want one naming branch_id", err)
	}
}
