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
//	PATCH  /projects/{project_id}                                  updateProject
//	DELETE /projects/{project_id}                                  deleteProject
//	GET    /projects/{project_id}/operations/{operation_id}        getProjectOperation
//	GET    /projects/{project_id}/branches/count                   countProjectBranches
//	PATCH  /projects/{project_id}/branches/{branch_id}             updateProjectBranch
//	DELETE /projects/{project_id}/branches/{branch_id}             deleteProjectBranch
//	POST   .../branches/{branch_id}/restore                        restoreProjectBranch
//	POST   .../branches/{branch_id}/set_as_default                 setDefaultProjectBranch
//	GET    .../branches/{branch_id}/schema                         getProjectBranchSchema
//	DELETE .../branches/{branch_id}/databases/{database_name}      deleteProjectBranchDatabase
//	GET    .../branches/{branch_id}/roles/{role_name}              getProjectBranchRole
//	DELETE .../branches/{branch_id}/roles/{role_name}              deleteProjectBranchRole
//	GET    .../roles/{role_name}/reveal_password                   getProjectBranchRolePassword
//	POST   .../roles/{role_name}/reset_password                    resetProjectBranchRolePassword
//	GET    /projects/{project_id}/endpoints                        listProjectEndpoints
//	POST   /projects/{project_id}/endpoints                        createProjectEndpoint
//	GET    /projects/{project_id}/endpoints/{endpoint_id}          getProjectEndpoint
//	PATCH  /projects/{project_id}/endpoints/{endpoint_id}          updateProjectEndpoint
//	DELETE /projects/{project_id}/endpoints/{endpoint_id}          deleteProjectEndpoint
//	POST   .../endpoints/{endpoint_id}/start|suspend|restart       start-, suspend-, restartProjectEndpoint
//	GET    /api_keys                                               listApiKeys
//	POST   /api_keys                                               createApiKey
//	DELETE /api_keys/{key_id}                                      revokeApiKey
//	GET    /users/me/organizations                                 getCurrentUserOrganizations
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
// Every request needs a non-empty bearer token (only Config.APIKey, or a key
// made with createApiKey and not revoked, when Config.APIKey is set).
// X-Request-ID is echoed (one is generated when absent) as a response header,
// as X-Neon-Ret-Request-Id (where Neon answers its request id), and
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
// first use. Close drops them.
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
// # Roles and connection strings
//
// Each role of each branch is a real Postgres role with LOGIN and a password
// like Neon's (npg_...). Roles are cluster-wide, so the real role is named
// per branch: nsb_<sandbox>_r<n>_<name>, where <name> is the role's Neon
// name ("neondb_owner"). The listings, getProjectBranchRole and the
// operations take the Neon name; getConnectionURI (and the connection_uris
// of createProject and createProjectBranch, whose connection_parameters.role
// is the real name) answers a URI that logs in as the real role, with the
// password reveal_password tells, to the real database: psql and pgx take
// it as is. Pooled URIs are the same as direct ones. The server keeps a
// SCRAM-SHA-256 verifier the sandbox computes, so the password itself never
// reaches the server's statement log. A branch copies its parent's roles
// with their passwords into real roles of its own; reset_password sets a
// new one (an operation; the old password stops matching before the
// answer). Deleting a role, its branch or its project drops the real role;
// a role that owns a database of its branch is refused (409). Close drops
// them all. no_login roles get neither password nor login (reveal_password
// answers 412, getConnectionURI 400).
//
// A real role is not a superuser but is a member of the backing server's
// user (the sandbox's own, from Config.DatabaseURL, which therefore needs
// CREATEROLE; a superuser in practice): it has owner's rights on what the
// sandbox made in the branch's databases, such as the neon_auth tables,
// which index builds and ANALYZE need, as Neon's neondb_owner has through
// neon_superuser, and less than the server's own credentials, which no
// answer carries. Where the server trusts local connections (pg_hba.conf
// "trust"), a wrong password is not refused: the names and the stored
// verifier are what tell then.
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
// their branch (409 for a taken name, 404 for an unknown owner).
// Every change is logged as operations, which listProjectOperations pages
// newest first (the cursor is the last id of a page) and
// getProjectOperation reads. The change is made before the answer; its
// operations then report "scheduling", "running" and "finished" one after
// the other, each running for Config.OperationTime (DefaultOperationTime,
// 300 ms; negative for at once), with total_duration_ms to match. The
// sandbox does not refuse a change while operations run (Neon may answer
// 423 then).
//
// updateProject sets the name and history retention. deleteProject drops
// every branch's databases and roles; the project then answers 404.
// updateProjectBranch renames (409 for a taken name) and protects;
// setDefaultProjectBranch moves the default. deleteProjectBranch refuses
// (409) the default branch, a protected branch and a branch with children,
// and drops the branch's databases and roles. countProjectBranches counts
// with listProjectBranches' search. getProjectBranchSchema answers pg_dump
// --schema-only of the database (SQL only; lsn and timestamp answer 400).
// restoreProjectBranch restores a branch from another branch's current
// state (no history: source_lsn, source_timestamp and a branch restored
// from itself answer 400): its databases become full copies of the
// source's (pg_dump piped into psql, so pg_dump and psql must be
// installed), its roles the source's with their passwords; it keeps its id,
// name and endpoints, and its Neon Auth follows its database by name,
// reading the users the restored table holds. With preserve_under_name the
// former databases and roles live on as a new branch of that name, a child
// of the restored one; otherwise they are dropped. deleteProjectBranchDatabase
// drops the database, refusing (409) the one Neon Auth keeps its users in.
//
// Endpoints are records with a state, "active" once started (or created)
// and "idle" once suspended or disabled; connection URIs reach the backing
// server whatever the state. createProjectEndpoint takes the project's
// region only and one read_write endpoint per branch (409);
// startProjectEndpoint refuses a disabled endpoint (409).
//
// createApiKey answers a napi_ key once, keeping only its SHA-256;
// listApiKeys lists the live ones with their last use, revokeApiKey ends
// one. getCurrentUserOrganizations answers one organization per org_id the
// account's projects were created with. getCurrentUserInfo describes the sandbox's account
// (owner@sandbox.invalid). Sandbox.CreateSharedProject makes a project of
// another account shared with this one: listSharedProjects lists it,
// listProjects does not.
//
// transferNeonAuthProviderProject answers a URL under /_sandbox/transfer/confirm;
// opening it completes the transfer (owned_by "user", transfer_status
// "finished"). A Stack Auth integration's jwks_url points at an (empty) key
// set served by the sandbox; a Better Auth one's at its base URL's, below.
//
// # Better Auth on each branch's base URL
//
// A Better Auth integration's base_url,
// <origin>/_sandbox/neon-auth/<branch_id>/<database>/auth, is a Better Auth
// server over that branch database's neon_auth tables, so that an app (or
// Better Auth's own client, better-auth/client) signs users up and in
// against the sandbox. Like Neon's, they need no API key: an app's users
// have none. Its routes, as Better Auth names them below its basePath:
//
//	POST /sign-up/email  POST /sign-in/email  POST /sign-out
//	GET  /get-session    GET  /list-sessions  POST /revoke-session
//	POST /revoke-sessions  POST /revoke-other-sessions
//	GET  /verify-email?token=...&callbackURL=...  POST /send-verification-email
//	POST /email-otp/verify-email  POST /email-otp/send-verification-otp
//	GET  /token  GET /jwks  GET /.well-known/jwks.json (the jwks_url)  GET /ok
//
// Sign-up writes "user" and a credential account (providerId "credential",
// accountId the user id) whose password is hashed exactly as Better Auth
// hashes it (HashPassword: scrypt N=16384, r=16, p=1, 64 bytes, over the
// NFKC-normalised password, "<salt hex>:<key hex>"). Sessions are rows of
// neon_auth.session; the cookie is better-auth.session_token, better-call's
// signed value (token, ".", HMAC-SHA256 in base64) under the integration's
// own secret, Max-Age 7 days, Path=/, HttpOnly, SameSite=Lax. Sessions last
// 7 days (1 day without rememberMe) and are extended once a day old.
// Answers and errors have Better Auth's shapes ({"message","code"}).
//
// The branch's settings apply as Neon applies them: email and password
// sign-in off answers EMAIL_PASSWORD_DISABLED, disable_sign_up
// EMAIL_PASSWORD_SIGN_UP_DISABLED; with require_email_verification sign-up
// makes no session and sign-in answers 403 EMAIL_NOT_VERIFIED until the
// email is verified. A verification email (on sign-up when verification is
// required or send_verification_email_on_sign_up is set, on a refused
// sign-in with send_verification_email_on_sign_in) is recorded in
// /_sandbox/emails: with email_verification_method "link" it holds the
// verify-email link (an HS256 token valid one hour; with
// auto_sign_in_after_verification opening it signs the user in), with "otp"
// a 6-digit code for the email OTP plugin (5 minutes, 3 tries). A POST
// carrying cookies, and a sign-up or sign-in naming an Origin or Referer,
// must come from a trusted origin: the base URL's own, a trusted domain
// ("*." wildcards match subdomains) or, while allowed, localhost on any port
// (403 INVALID_ORIGIN otherwise); a server-side sign-in naming none passes,
// as in Better Auth. A banned user (the admin plugin's "user".banned) is
// refused at sign-in with 403 BANNED_USER unless "banExpires" has passed,
// which lifts the ban.
//
// GET /token and every get-session (its set-auth-jwt header) answer a JWT
// as Better Auth's JWT plugin signs it: EdDSA with an Ed25519 key kept in
// neon_auth.jwks (made on first use, the private JWK encrypted as Better
// Auth encrypts it, XChaCha20-Poly1305 under SHA-256 of the secret), kid the
// key's id, the user's fields as claims, sub the user id, iss and aud the
// base URL's origin, valid 15 minutes. Each integration has its own secret
// and keys: a branch's cookies and tokens mean nothing on another branch.
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
//	GET    /_sandbox/emails   {"emails":[...]} the test and verification emails sent, oldest first
//	DELETE /_sandbox/emails   forget them
//	GET    /_sandbox/requests {"rate_limit_per_minute","burst","requests","rate_limited","max_per_minute",
//	                           "keys":[{"key","requests","rate_limited","max_per_minute"}]}
//	DELETE /_sandbox/requests reset the counts and refill every key's budget
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
//
// # Rate limit
//
// With Config.RateLimitPerMinute set, each API key may make that many calls
// a minute, with bursts of up to 40 (NeonBurst), as Neon allows 700 a minute
// per key: a call over it answers 429 TOO_MANY_REQUESTS in Neon's
// GeneralError shape with Retry-After, the whole seconds until the key may
// call again, and is not served. GET /_sandbox/requests counts the API
// requests that passed the token check (those an injected fault answered
// are not counted): all of them, those refused with 429, and the most that
// arrived within any 60 seconds, in total and per key. A key is named by the
// first twelve hex digits of its SHA-256, never by itself. The counts are
// kept whether or not the limit is on.
package sandbox
