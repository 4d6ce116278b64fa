// Package sandbox is a local emulator of the Neon API v2, backed by a real
// Postgres server, for demos, tests and CI: scripts and programs written against
// Neon's API (and every curl example of Neon's "Manage Neon Auth using the API"
// guide) run unchanged against it, only the host differs.
//
// # What it serves
//
// Under /api/v2, following Neon's OpenAPI spec (request shapes, required
// response fields, enums and status codes):
//
//	GET    /auth                                                   getAuthDetails
//	GET    /projects                                               listProjects
//	POST   /projects                                               createProject
//	GET    /projects/{project_id}                                  getProject
//	GET    /projects/{project_id}/branches                         listProjectBranches
//	GET    /projects/{project_id}/branches/{branch_id}/databases   listProjectBranchDatabases
//	GET    /projects/{project_id}/branches/{branch_id}/roles       listProjectBranchRoles
//	GET    /projects/{project_id}/connection_uri                   getConnectionURI
//	POST   /projects/auth/create                                   createNeonAuthIntegration
//	GET    /projects/{project_id}/auth/integrations                listNeonAuthIntegrations
//	DELETE /projects/{project_id}/auth/integration/{auth_provider} deleteNeonAuthIntegration
//	POST   /projects/auth/user                                     createNeonAuthNewUser
//	DELETE /projects/{project_id}/auth/users/{auth_user_id}        deleteNeonAuthUser
//	POST   /projects/auth/transfer_ownership                       transferNeonAuthProviderProject
//	POST   /projects/auth/keys                                     createNeonAuthProviderSDKKeys
//	GET    /projects/{project_id}/branches/{branch_id}/auth        getNeonAuth
//	POST   /projects/{project_id}/branches/{branch_id}/auth        createNeonAuth
//	DELETE /projects/{project_id}/branches/{branch_id}/auth        disableNeonAuth
//	POST   /projects/{project_id}/branches/{branch_id}/auth/users  createBranchNeonAuthNewUser
//	DELETE .../branches/{branch_id}/auth/users/{auth_user_id}      deleteBranchNeonAuthUser
//	PUT    .../branches/{branch_id}/auth/users/{auth_user_id}/role updateNeonAuthUserRole
//
// Every request needs a non-empty bearer token (only Config.APIKey when set).
// X-Request-ID is echoed (one is generated when absent) as a response header and
// in every error body, which has Neon's GeneralError shape
// {"code","message","request_id"}. Bad input answers 400, never 500; unknown
// objects 404; a second integration of one provider on a project, a second
// integration on a branch, or a duplicate user email answer 409. Unknown JSON
// fields are ignored, as Neon does, which is how the guide's "password" field on
// user creation is accepted (it only sets has_password in the synced row; the
// value itself is never kept).
//
// # Behaviour
//
// A project comes with a default branch "main" holding database "neondb" owned
// by role "neondb_owner" (or the names given in createProject). Each branch
// database is a real database on the backing server, named uniquely
// (nsb_<sandbox>_<n>_<name>) so that several sandboxes and tests can share one
// server; createProject creates it before answering, Sandbox.CreateProject on
// first use. Close drops them. getConnectionURI answers a URI to that
// database with the backing server's own user and password: the sandbox creates
// no Postgres roles, and pooled URIs are the same as direct ones.
//
// Enabling Neon Auth provisions Neon's exact DDL in that database: provider
// "stack" (and "mock") creates neon_auth.users_sync (StackDDL), "better_auth"
// creates neon_auth."user" (BetterAuthDDL). The project-level endpoint
// (createNeonAuthIntegration) takes stack and mock, the branch-level one
// (createNeonAuth) any provider; a branch holds one integration, and
// listNeonAuthIntegrations shows those of every branch. A database that already holds the
// wanted table is reused with its rows; one holding the other generation answers
// 409. Responses carry fresh pck_/ssk_ keys; the secret server key is never
// stored. User creation answers 201 {"id"} at once and writes the row
// asynchronously after the sync delay, like Neon's sync: a raw_json document in
// users_sync, or a row in "user". deleteNeonAuthUser soft-deletes (sets
// deleted_at and updated_at); deleteBranchNeonAuthUser removes the row;
// updateNeonAuthUserRole (better_auth only) sets the role column, several roles
// comma-separated as Better Auth stores them. Writes to
// one database are applied in order, in batches, by one worker per database, and
// every created user is written exactly once.
//
// transferNeonAuthProviderProject answers a URL under /_sandbox/transfer/confirm;
// opening it completes the transfer (owned_by "user", transfer_status
// "finished"). jwks_url points at an (empty) key set served by the sandbox.
//
// listProjects pages with pagination.cursor, the id of the page's last project,
// in creation order; a page after the last one is empty and has no pagination.
// listProjectBranches pages with pagination.next, opaque.
//
// # Control endpoints
//
// Outside the API, for tests and demos (they need the bearer token only when
// Config.APIKey is set):
//
//	POST   /_sandbox/faults   {"kind":"429|503|423|hang|drop|malformed","count":N,
//	                           "path_contains":"...","retry_after_seconds":1,"hang_ms":30000}
//	GET    /_sandbox/faults   the faults still armed
//	DELETE /_sandbox/faults   disarm all
//	POST   /_sandbox/sync     {"mode":"normal|slow|never","delay_ms":...}
//	GET    /_sandbox/sync     the current mode and delay
//
// InjectFault, ClearFaults and SetSync do the same from Go, and WaitForSync
// waits until every queued write has landed. Faults apply to /api/v2 requests
// only, matched on the URL path; a "hang" holds the request until the client
// gives up (or hang_ms passes, after which it is served normally).
package sandbox
