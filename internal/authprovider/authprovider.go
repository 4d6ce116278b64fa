// Package authprovider names the two generations of Neon Auth. Provider is the
// one type every layer uses for them: the Neon client sends its value as the
// API's auth_provider, the users database code picks its table layout from it,
// and pages take its name and capabilities from its methods, so no package
// spells a provider out.
package authprovider

// Provider is a generation of Neon Auth. Its value is the auth_provider the
// Neon API uses for it.
type Provider string

// The providers the dashboard manages.
const (
	// Unknown is the zero value: not known, or not one the dashboard manages.
	Unknown Provider = ""
	// Stack is project-level ("legacy") Neon Auth: one Stack Auth project per
	// Neon project, managed through the project-level endpoints, syncing users
	// into neon_auth.users_sync.
	Stack Provider = "stack"
	// BetterAuth is branch-level Neon Auth: enabled per branch through the
	// branch endpoints, keeping users in Better Auth's neon_auth."user".
	BetterAuth Provider = "better_auth"
)

// All lists the providers in the order the dashboard offers them.
var All = []Provider{Stack, BetterAuth}

// Parse returns the provider v names, and false when v is none the dashboard
// manages.
func Parse(v string) (Provider, bool) {
	p := Provider(v)
	return p, p.Valid()
}

// Valid reports whether p is a provider the dashboard manages.
func (p Provider) Valid() bool { return p == Stack || p == BetterAuth }

// Name is the provider's product name, for sentences and table cells.
func (p Provider) Name() string {
	switch p {
	case Stack:
		return "Stack Auth"
	case BetterAuth:
		return "Better Auth"
	}
	return string(p)
}

// Label is the name with the level it is managed at, as people know it.
func (p Provider) Label() string {
	if !p.Valid() {
		return string(p)
	}
	return p.Name() + " (" + p.Level() + ")"
}

// Level says where the provider is enabled: project-level or branch-level.
func (p Provider) Level() string {
	if p.BranchLevel() {
		return "branch-level"
	}
	return "project-level"
}

// BranchLevel reports whether the provider is enabled per branch (through
// Neon's branch endpoints) rather than once per project.
func (p Provider) BranchLevel() bool { return p == BetterAuth }

// HasRoles reports whether the provider's users carry roles Neon's API can
// set. Stack Auth users have none there.
func (p Provider) HasRoles() bool { return p == BetterAuth }

// HasTransfer reports whether the provider's auth project can be handed over
// to its owner's own account, and issue new SDK keys: Neon manages a Stack
// Auth project on the user's behalf, which Better Auth does not have.
func (p Provider) HasTransfer() bool { return p == Stack }

// Transferable returns the provider whose auth project can be handed over
// and issue new SDK keys (see HasTransfer).
func Transferable() Provider {
	for _, p := range All {
		if p.HasTransfer() {
			return p
		}
	}
	return Unknown
}

// SoftDeletes reports whether deleted users stay in the users table, marked
// deleted (Stack Auth's users_sync), rather than being removed.
func (p Provider) SoftDeletes() bool { return p == Stack }

// Table is the qualified users table the provider writes to, "" for a
// provider the dashboard does not manage.
func (p Provider) Table() string {
	switch p {
	case Stack:
		return "neon_auth.users_sync"
	case BetterAuth:
		return `neon_auth."user"`
	}
	return ""
}
