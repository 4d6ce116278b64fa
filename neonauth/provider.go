package neonauth

import (
	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// Provider is a generation of Neon Auth, named by the auth_provider value the
// Neon API uses for it. Everything the dashboard says about a provider (its
// name, its level, its users table, whether users have roles) is answered by
// Provider's methods, so no other package spells a provider out.
type Provider string

// The providers the dashboard manages.
const (
	// Stack is project-level ("legacy") Neon Auth: one Stack Auth project per
	// Neon project, managed through the project-level endpoints, syncing users
	// into neon_auth.users_sync.
	Stack Provider = Provider(neonapi.AuthProviderStack)
	// BetterAuth is branch-level Neon Auth: enabled per branch through the
	// branch endpoints, keeping users in Better Auth's neon_auth."user".
	BetterAuth Provider = Provider(neonapi.AuthProviderBetterAuth)
)

// Providers lists the providers in the order the dashboard offers them.
var Providers = []Provider{Stack, BetterAuth}

// ParseProvider returns the provider v names, and false when v is none the
// dashboard manages.
func ParseProvider(v string) (Provider, bool) {
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

// Generation is the users table layout the provider writes to.
func (p Provider) Generation() db.Generation { return db.Generation(p) }

// Table is the qualified users table the provider writes to, "" for a
// provider the dashboard does not manage.
func (p Provider) Table() string { return p.Generation().Table() }

// API is the provider's auth_provider value in the Neon API.
func (p Provider) API() neonapi.AuthProvider { return neonapi.AuthProvider(p) }
