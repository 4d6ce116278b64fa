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
//	GET    /users/me                                               getCurrentUserInfo
//	GET    /projects                                               listProjects
//	POST   /projects                                               createProject
//	GET    /projects/shared                                        listSharedProjects
//	GET    /projects/{project_id}                                  getProject
//	GET    /projects/{project_id}/operations                       listProjectOperations
//	GET    /projects/{project_id}/branches                         listProjectBranches
//	POST   /projects/{project_id}/branches                         createProjectBranch
//	GET    /projects/{project_id}/branches/{branch_id}             getProjectBranch
//	GET    .../branches/{branch_id}/endpoints                      listProjectBranchEndpoints
//	GET    .../branches/{branch_id}/databases                      listProjectBranchDatabases
//	POST   .../branches/{branch_id}/databases                      createProjectBranchDatabase
//	GET    .../branches/{branch_id}/databases/{database_name}      getProjectBranchDatabase
//	GET    .../branches/{branch_id}/roles                          listProjectBranchRoles
//	POST   .../branches/{branch_id}/roles                          createProjectBranchRole
//	GET    /projects/{project_id}/connection_uri                   getConnectionURI
//	POST   /projects/auth/create                                   createNeonAuthIntegration
//	GET    /projects/{project_id}/auth/integrations                listNeonAuthIntegrations
//	DELETE /projects/{project_id}/auth/integration/{auth_provider} deleteNeonAuthIntegration
//	POST   /projects/auth/user                                     createNeonAuthNewUser
//	DELETE /projects/{project_id}/auth/users/{auth_user_id}        deleteNeonAuthUser
//	POST   /projects/auth/transfer_ownership                       transferNeonAuthProviderProject
//	POST   /projects/auth/keys                                     createNeonAuthProviderSDKKeys
//
// and the 28 branch-level Neon Auth operations, below
// /projects/{project_id}/branches/{branch_id}:
//
//	GET    /auth                                  getNeonAuth
//	POST   /auth                                  createNeonAuth
//	DELETE /auth                                  disableNeonAuth
//	POST   /auth/users                            createBranchNeonAuthNewUser
//	DELETE /auth/users/{auth_user_id}             deleteBranchNeonAuthUser
//	PUT    /auth/users/{auth_user_id}/role        updateNeonAuthUserRole
//	PATCH  /auth/config                           updateNeonAuthConfig
//	GET    /auth/domains                          listBranchNeonAuthTrustedDomains
//	POST   /auth/domains                          addBranchNeonAuthTrustedDomain
//	DELETE /auth/domains                          deleteBranchNeonAuthTrustedDomain
//	GET    /auth/allow_localhost                  getNeonAuthAllowLocalhost
//	PATCH  /auth/allow_localhost                  updateNeonAuthAllowLocalhost
//	GET    /auth/oauth_providers                  listBranchNeonAuthOauthProviders
//	POST   /auth/oauth_providers                  addBranchNeonAuthOauthProvider
//	PATCH  /auth/oauth_providers/{id}             updateBranchNeonAuthOauthProvider
//	DELETE /auth/oauth_providers/{id}             deleteBranchNeonAuthOauthProvider
//	GET    /auth/email_and_password               getNeonAuthEmailAndPasswordConfig
//	PATCH  /auth/email_and_password               updateNeonAuthEmailAndPasswordConfig
//	GET    /auth/email_provider                   getNeonAuthEmailProvider
//	PATCH  /auth/email_provider                   updateNeonAuthEmailProvider
//	POST   /auth/send_test_email                  sendNeonAuthTestEmail
//	GET    /auth/plugins                          getNeonAuthPluginConfigs
//	PATCH  /auth/plugins/organization             updateNeonAuthOrganizationPlugin
//	PATCH  /auth/plugins/magic-link               updateNeonAuthMagicLinkPlugin
//	GET    /auth/plugins/phone-number             getNeonAuthPhoneNumberPlugin
//	PATCH  /auth/plugins/phone-number             updateNeonAuthPhoneNumberPlugin
//	GET    /auth/webhooks                         getNeonAuthWebhookConfig
//	PUT    /auth/webhooks                         updateNeonAuthWebhookConfig
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
// # Branch-level Neon Auth settings
//
// Each integration keeps its settings in memory; disabling Neon Auth forgets
// them. A new integration starts as Neon's documentation shows: the
// application name is the project's, localhost is allowed, no trusted
// domains, Google sign-in on Neon's shared credentials, email and password
// with verification codes, Neon's shared email server, the organization
// plugin on (10 organizations, 100 members, creators are owners) and magic
// links (5 minutes), phone numbers (300 s) and the webhook off.
//
// Trusted domains are http(s) origins without path, query or credentials
// ("https://*.example.com" allowed), stored lower-cased without a trailing
// slash; adding one twice answers 409, deleting one not listed 404 (and
// deletes none). OAuth providers: only google has shared credentials, the
// others need client_id and client_secret (400); adding a configured one
// answers 409, updating or deleting one not configured 404; an update with an
// empty client_secret keeps the stored one, an empty client_id returns to
// shared credentials. Email verification links need the branch's own
// (standard) email server. A standard server needs a host name or address, a
// port from 1 to 65535 and valid sender email (400 otherwise); an update
// with an empty password keeps the stored one. Webhooks need an http(s) URL
// to be enabled. Every value the spec bounds is checked (400). The
// settings other than domains, OAuth providers and localhost are Better Auth
// features: on a stack or mock integration they answer 400, as
// updateNeonAuthUserRole does. A branch without Neon Auth answers 404.
//
// Secrets are write-only: OAuth client secrets and SMTP passwords are kept,
// but no answer carries them. The spec requires a password in a standard
// email server's answer, so it is answered empty.
//
// sendNeonAuthTestEmail sends nothing: it records the message (without the
// password), listed by GET /_sandbox/emails. A host under .invalid stands for
// an unreachable server: the answer is {"success":false,"error_message":...}
// and nothing is recorded.
//
// # Branches, databases, roles and the operation log
//
// createProjectBranch copies the parent (the default branch unless
// parent_id says otherwise) as the sandbox models a branch: the same
// databases (each a new real database) and roles, and the neon_auth table
// with its rows (only the table with init_source "schema-only"). Other
// schemas are not copied. A Better Auth integration on the parent is
// inherited with its settings and users (new ids, keys and URLs), including
// user writes still queued for the parent; a project-level (stack)
// integration stays with its branch. Without a body the branch gets a
// generated name and no endpoint; endpoints are records only (connection URIs
// always reach the backing server), and connection URIs are answered when
// the request asked for one. parent_lsn and parent_timestamp answer 400:
// the sandbox keeps no history. A taken name answers 409. Databases and roles
// made with createProjectBranchDatabase and createProjectBranchRole live on
// their branch (409 for a taken name, 404 for an unknown owner); roles get no
// password. Every create is logged as finished operations, which
// listProjectOperations pages newest first (the cursor is the last id of a
// page). getCurrentUserInfo describes the sandbox's account
// (owner@sandbox.invalid). Sandbox.CreateSharedProject makes a project of
// another account shared with this one: listSharedProjects lists it,
// listProjects does not.
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
//	POST   /_sandbox/faults   {"kind":"429|503|423|hang|drop|malformed|empty|body|drop-after|hang-after",
//	                           "count":N,"path_contains":"...","method":"POST","retry_after_seconds":1,
//	                           "hang_ms":30000,"body":"{\"id\":\"../x\"}"}
//	GET    /_sandbox/faults   the faults still armed
//	DELETE /_sandbox/faults   disarm all
//	POST   /_sandbox/sync     {"mode":"normal|slow|never","delay_ms":...}
//	GET    /_sandbox/sync     the current mode and delay
//	GET    /_sandbox/emails   {"emails":[...]} the test emails sent, oldest first
//	DELETE /_sandbox/emails   forget them
//
// InjectFault, ClearFaults, SetSync, Emails and ClearEmails do the same from
// Go, and WaitForSync
// waits until every queued write has landed. Faults apply to /api/v2 requests
// only, matched on the URL path; a "hang" holds the request until the client
// gives up (or hang_ms passes, after which it is served normally). The kinds
// empty, body, drop-after and hang-after serve the request first, so a write
// is made, and then answer a success with {} or with "body", drop the
// connection, or hold the answer back for hang_ms or until the client gives
// up: the answers that leave a client unsure whether its change was made.
package sandbox
