package authprovider

import "testing"

func TestProviderNames(t *testing.T) {
	tests := []struct {
		p                  Provider
		name, label, table string
		branchLevel, roles bool
		transfer, valid    bool
	}{
		{Stack, "Stack Auth", "Stack Auth (project-level)", "neon_auth.users_sync", false, false, true, true},
		{BetterAuth, "Better Auth", "Better Auth (branch-level)", `neon_auth."user"`, true, true, false, true},
		{"mock", "mock", "mock", "", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.p), func(t *testing.T) {
			if got := tt.p.Name(); got != tt.name {
				t.Errorf("Name = %q, want %q", got, tt.name)
			}
			if got := tt.p.Label(); got != tt.label {
				t.Errorf("Label = %q, want %q", got, tt.label)
			}
			if got := tt.p.Table(); got != tt.table {
				t.Errorf("Table = %q, want %q", got, tt.table)
			}
			if tt.p.BranchLevel() != tt.branchLevel || tt.p.HasRoles() != tt.roles || tt.p.HasTransfer() != tt.transfer || tt.p.Valid() != tt.valid {
				t.Errorf("BranchLevel %v HasRoles %v HasTransfer %v Valid %v", tt.p.BranchLevel(), tt.p.HasRoles(), tt.p.HasTransfer(), tt.p.Valid())
			}
			if p, ok := Parse(string(tt.p)); p != tt.p || ok != tt.valid {
				t.Errorf("ParseProvider = %q, %v", p, ok)
			}
		})
	}
}
