package sandbox

import (
	"sync/atomic"
	"time"
)

// project is the sandbox's record of a Neon project.
type project struct {
	seq              int64
	id               string
	name             string
	regionID         string
	platformID       string
	orgID            string
	pgVersion        int
	historyRetention int
	createdAt        time.Time
	branches         []*branch
	// ownerID is the sandbox's account, or another one for a project shared
	// with it (listSharedProjects).
	ownerID    string
	operations []*operation // oldest first
	// opTime is how long each operation runs (Config.OperationTime).
	opTime time.Duration
	// deleted is set by deleteProject; the project stays in Sandbox.order
	// so that listProjects cursors keep their places.
	deleted bool
}

// operation is one entry of a project's operation log.
type operation struct {
	id         string
	branchID   string
	endpointID string
	action     string
	createdAt  time.Time
	// The operation runs from started to finishes; before started it waits
	// behind the operations recorded with it.
	started, finishes time.Time
}

// branch is a branch of a project, with its databases, roles and, once Neon
// Auth is enabled on it, its integration.
type branch struct {
	id        string
	name      string
	project   *project
	parentID  string
	isDefault bool
	protected bool
	// initSource is "parent-data" or "schema-only".
	initSource string
	// creating is true while createProjectBranch copies the parent's data.
	creating   bool
	endpoints  []*endpoint
	annotation map[string]string
	createdAt  time.Time
	databases  []*database
	roles      []*role
	auth       *integration
}

// endpoint is a compute endpoint of a branch; the sandbox has no computes,
// every endpoint reaches the backing server.
type endpoint struct {
	id           string
	typ          string
	minCU, maxCU float64
	createdAt    time.Time
	// state is "active" or "idle"; "" is active (endpoints made with a branch).
	state          string
	name           string
	disabled       bool
	suspendTimeout int64
	updatedAt      time.Time
}

// database is a database of a branch, backed by a real one.
type database struct {
	id        int64
	name      string
	owner     string
	createdAt time.Time
	real      *realDB
}

// role is a Postgres role of a branch, backed by a real role with a password
// (see realRole); a no_login role has none.
type role struct {
	name      string
	createdAt time.Time
	noLogin   bool
	real      *realRole
}

// integration is Neon Auth enabled on one branch database.
type integration struct {
	provider          string
	providerProjectID string
	project           *project
	branch            *branch
	db                *database
	createdAt         time.Time
	ownedBy           string
	transferStatus    string
	jwksURL           string
	baseURL           string
	// authSecret is a Better Auth integration's BETTER_AUTH_SECRET: it signs
	// session cookies and verification tokens and encrypts the JWKS private
	// keys. Never answered.
	authSecret string
	// settings are the branch-level configuration operations' state.
	settings authSettings
	// ready turns true once the schema is provisioned; until then the
	// integration only reserves its branch.
	ready bool
	// removed tells the sync worker to drop writes still queued for it.
	removed atomic.Bool
	users   map[string]*authUser // by id
	emails  map[string]string    // lower-cased email of live users -> id
}

// authUser is what the sandbox remembers of a Neon Auth user: enough to answer
// 404 and 409 without asking the database.
type authUser struct {
	id      string
	email   string
	deleted bool
}

func (p *project) defaultBranch() *branch {
	for _, b := range p.branches {
		if b.isDefault {
			return b
		}
	}
	return p.branches[0]
}

func (p *project) branchByID(id string) *branch {
	for _, b := range p.branches {
		if b.id == id {
			return b
		}
	}
	return nil
}

func (b *branch) databaseByName(name string) *database {
	for _, d := range b.databases {
		if d.name == name {
			return d
		}
	}
	return nil
}

// readWriteEndpoint returns the branch's read-write endpoint, or nil.
func (b *branch) readWriteEndpoint() *endpoint {
	for _, e := range b.endpoints {
		if e.typ == "read_write" {
			return e
		}
	}
	return nil
}

func (b *branch) roleByName(name string) *role {
	for _, r := range b.roles {
		if r.name == name {
			return r
		}
	}
	return nil
}

// integrations returns the project's live integrations, default branch first.
func (p *project) integrations() []*integration {
	var out []*integration
	for _, b := range p.branches {
		if b.auth != nil && b.auth.ready {
			if b.isDefault {
				out = append([]*integration{b.auth}, out...)
			} else {
				out = append(out, b.auth)
			}
		}
	}
	return out
}

// integrationFor returns the project's live integration with the provider, the
// default branch's first.
func (p *project) integrationFor(provider string) *integration {
	for _, in := range p.integrations() {
		if in.provider == provider {
			return in
		}
	}
	return nil
}
