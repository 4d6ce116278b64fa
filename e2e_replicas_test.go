package main

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/peopleseed"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// The replicas test's settings: Neon's per-key budget the sandbox enforces,
// and the jobs' lease, short so that a dead replica's job is taken over
// within seconds.
const (
	replicasRateLimit = 700
	replicasJobLease  = 2 * time.Second
)

// The projects the replicas test seeds in its sandbox: one without Neon
// Auth for the guide, and one with Better Auth whose default branch has
// enough sessions for a revocation to run as a background job.
const (
	replicasGuideProject  = "replicas-guide"
	replicasPeopleProject = "replicas-people"
	replicasPeopleUsers   = 8000
	replicasSessionsPer   = 4
	// replicasSecretMarker begins every value of the people branch's
	// secret columns (session tokens, password hashes).
	replicasSecretMarker = "replicas-secret-"
	// replicasRevokeIP is the network whose sessions the job revokes: a
	// third of them, so that a revocation touching others shows.
	replicasRevokeIP = "10."
)

// replicaSet is everything the replicas test runs: the Neon API sandbox,
// the identity provider, two dashboard replicas on one state store, and the
// round-robin proxy in front of them.
type replicaSet struct {
	adminURL string
	stateURL string
	apiKey   string
	sessKeys string
	sandbox  *childProc
	client   *neonapi.Client
	idp      *mockoidc.MockOIDC
	proxy    *rrProxy
	// reps are replica A and replica B.
	reps [2]*childProc
	// people is the Better Auth branch the settings and the job act on.
	people peopleBranch
	// admin is an HTTP client signed in as the admin, through the proxy;
	// its cookies work on either replica.
	admin *http.Client
	// changes are the audit actions of the changes the test made, in order.
	changes []string
	// stackSecret is the secret server key the guide was shown once.
	stackSecret string
}

// peopleBranch is the default branch of replicasPeopleProject.
type peopleBranch struct {
	projectID, branchID string
	// super reaches its database as the server's superuser, for what the
	// test does behind the dashboard's back.
	super string
}

// replicasAdmin is the person the identity provider signs in.
var replicasAdmin = person("ada@example.com", "ada")

// TestTwoReplicasBehindARoundRobinProxy runs the dashboard as it is
// deployed: two `dashboard serve` processes sharing one state store and
// SESSION_KEYS, behind a load balancer without session affinity, signing
// people in with OpenID Connect, against a Neon API sandbox process that
// enforces Neon's per-key rate limit. In Chromium, an admin signs in (the
// sign-in's steps land on different replicas) and walks Neon's guide with
// every step going to whichever replica is next. Then: a settings change
// on one replica shows on the other within a second; both replicas under
// load stay within one rate budget; a replica killed mid-job leaves the job
// to the other; the audit trail lists every change and its chain verifies,
// and stops verifying once a row is edited.
func TestTwoReplicasBehindARoundRobinProxy(t *testing.T) {
	adminURL := pgtest.Require(t)
	browsertest.Chromium(t) // skip before starting anything when there is no browser
	start := time.Now()
	rs := startReplicaSet(t, adminURL)
	t.Logf("sandbox, provider, two replicas and the proxy started in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { rs.checkNoSecretInLogs(t) })

	step := time.Now()
	rs.signInAndWalkTheGuide(t)
	t.Logf("sign-in and guide: %s", time.Since(step).Round(time.Millisecond))
	rs.admin = rs.signInClient(t)

	t.Run("each answer names its replica", rs.replicaHeaders)
	t.Run("a settings change on one replica shows on the other within 1s", rs.settingsPropagate)
	t.Run("both replicas under load stay within one Neon budget", rs.sharedBudget)
	t.Run("a replica killed mid-job leaves the job to the other", rs.jobSurvivesKill)
	t.Run("the audit trail lists every change and its chain verifies", rs.auditTrail)
	t.Logf("whole test: %s", time.Since(start).Round(time.Millisecond))
}

// startReplicaSet starts the sandbox and seeds it, the provider, the two
// replicas and the proxy.
func startReplicaSet(t *testing.T, adminURL string) *replicaSet {
	t.Helper()
	rs := &replicaSet{
		adminURL: adminURL,
		apiKey:   "replicas-" + hex.EncodeToString(randomBytes(16)),
		sessKeys: hex.EncodeToString(randomBytes(32)),
	}
	// The key by the environment, so that it stays out of ps.
	rs.sandbox = startChild(t, "sandbox", []string{"sandbox", "--rate-limit", strconv.Itoa(replicasRateLimit), "--listen", "127.0.0.1:0", "--sync-delay", "200ms"},
		map[string]string{"DATABASE_URL": adminURL, "SANDBOX_API_KEY": rs.apiKey},
		regexp.MustCompile(`^(http://\S+/api/v2)$`))
	client, err := neonapi.New(rs.apiKey, neonapi.WithBaseURL(rs.sandbox.URL))
	if err != nil {
		t.Fatal(err)
	}
	rs.client = client
	rs.seed(t)

	rs.idp = startIdP(t)
	rs.stateURL = pgtest.NewDatabase(t)
	proxy, ln := listenProxy(t)
	rs.proxy = proxy
	env := map[string]string{
		"NEON_API_URL":            rs.sandbox.URL,
		"NEON_API_KEY":            rs.apiKey,
		"STATE_DATABASE_URL":      rs.stateURL,
		"SESSION_KEYS":            rs.sessKeys,
		"LISTEN_ADDR":             "127.0.0.1:0",
		"AUTH_MODE":               "oidc",
		"AUTH_OIDC_ISSUER":        rs.idp.Issuer(),
		"AUTH_OIDC_CLIENT_ID":     rs.idp.ClientID,
		"AUTH_OIDC_CLIENT_SECRET": rs.idp.ClientSecret,
		"AUTH_OIDC_REDIRECT_URL":  proxy.URL + "/auth/callback",
		"AUTH_OIDC_SCOPES":        "openid email profile groups",
		"AUTH_ADMIN_EMAILS":       replicasAdmin.Email,
		"JOB_LEASE":               replicasJobLease.String(),
		// Reads other than a branch's Neon Auth settings (kept for the
		// freshness window unless changed) are fresh for a second, so
		// pages keep costing Neon calls.
		"CACHE_TTL": "1s",
		// Each replica alone may spend all of the key's budget: only the
		// shared budget keeps the two together within it.
		"NEON_API_SHARE": "100",
		"SHUTDOWN_GRACE": "3s",
	}
	dashAddr := regexp.MustCompile(`^Dashboard: (http://\S+?)/?$`)
	for i, name := range []string{"replica A", "replica B"} {
		rs.reps[i] = startChild(t, name, []string{"serve"}, env, dashAddr)
	}
	proxy.serve(t, ln, rs.reps[0].URL, rs.reps[1].URL)
	return rs
}

// seed creates the test's projects through the sandbox's API, then fills
// the Better Auth branch's database with users and their sessions, and
// slows its session deletes down (a statement trigger sleeping 0.3 s) so
// that a revocation lasts long enough to kill its replica midway.
func (rs *replicaSet) seed(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	if _, err := rs.client.CreateProject(ctx, neonapi.CreateProjectRequest{Name: replicasGuideProject}); err != nil {
		t.Fatalf("create %s: %v", replicasGuideProject, err)
	}
	p, err := rs.client.CreateProject(ctx, neonapi.CreateProjectRequest{Name: replicasPeopleProject})
	if err != nil {
		t.Fatalf("create %s: %v", replicasPeopleProject, err)
	}
	if len(p.Databases) == 0 || len(p.Roles) == 0 {
		t.Fatalf("%s was created without a database or role: %+v", replicasPeopleProject, p)
	}
	rs.people = peopleBranch{projectID: p.Project.ID, branchID: p.Branch.ID}
	if _, err := rs.client.EnableBranchAuth(ctx, p.Project.ID, p.Branch.ID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth, DatabaseName: p.Databases[0].Name,
	}); err != nil {
		t.Fatalf("enable Better Auth on %s: %v", replicasPeopleProject, err)
	}
	uri, err := rs.client.GetConnectionURI(ctx, p.Project.ID, neonapi.ConnectionURIOptions{
		BranchID: p.Branch.ID, DatabaseName: p.Databases[0].Name, RoleName: p.Roles[0].Name,
	})
	if err != nil {
		t.Fatalf("connection URI of %s: %v", replicasPeopleProject, err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("the sandbox's connection URI does not parse")
	}
	rs.people.super = pgtest.WithDatabase(rs.adminURL, strings.TrimPrefix(u.Path, "/"))

	conn, err := pgx.Connect(ctx, rs.people.super)
	if err != nil {
		t.Fatalf("connect to %s's database: %v", replicasPeopleProject, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, generatedUsersSQL[authprovider.BetterAuth], replicasPeopleUsers); err != nil {
		t.Fatalf("add users: %v", err)
	}
	if err := peopleseed.Seed(ctx, conn, peopleseed.Options{SessionsPerUser: replicasSessionsPer, SecretMarker: replicasSecretMarker}); err != nil {
		t.Fatalf("add sessions: %v", err)
	}
	if _, err := conn.Exec(ctx, `CREATE FUNCTION public.slow_session_delete() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
CREATE TRIGGER slow_session_delete BEFORE DELETE ON neon_auth.session
  FOR EACH STATEMENT EXECUTE FUNCTION public.slow_session_delete()`); err != nil {
		t.Fatalf("slow down session deletes: %v", err)
	}
}

// signInClient signs the admin in through the proxy with a plain HTTP
// client. Cookies do not tell ports apart, so the client is signed in at
// either replica's own address too.
func (rs *replicaSet) signInClient(t *testing.T) *http.Client {
	t.Helper()
	c := browserlessClient(t)
	admin := replicasAdmin
	rs.idp.QueueUser(&admin)
	a := fetch(t, c, http.MethodGet, rs.proxy.URL+"/projects")
	if got := a.role(); got != "admin" {
		t.Fatalf("signing in through the proxy: %s, want admin (%s)\n%.400s", got, a.url, a.body)
	}
	return c
}

// replicaHeaders checks every answer through the proxy named the replica
// that gave it: one name per backend, and two different names.
func (rs *replicaSet) replicaHeaders(t *testing.T) {
	names := map[int]map[string]int{0: {}, 1: {}}
	for _, s := range rs.proxy.since(0) {
		if s.proxyErr != "" {
			continue // the proxy's own answer
		}
		if s.replica == "" {
			t.Errorf("%s %s (%d) from replica %c lacks %s", s.method, s.path, s.status, 'A'+s.backend, replicaHeader)
		}
		names[s.backend][s.replica]++
	}
	for i := range 2 {
		if len(names[i]) != 1 {
			t.Errorf("replica %c's answers carried %s values %v, want one name", 'A'+i, replicaHeader, names[i])
		}
	}
	a, b := soleName(names[0]), soleName(names[1])
	if a != "" && a == b {
		t.Errorf("both replicas call themselves %q", a)
	}
	t.Logf("replica A is %q, replica B %q", a, b)
}

// soleName is the one key of m, or "" when it has several or none.
func soleName(m map[string]int) string {
	if len(m) != 1 {
		return ""
	}
	for k := range m {
		return k
	}
	return ""
}

// checkNoSecretInLogs fails the test when a secret (see leaked) appears in
// any process's output.
func (rs *replicaSet) checkNoSecretInLogs(t *testing.T) {
	for _, p := range append([]*childProc{rs.sandbox}, rs.reps[:]...) {
		if p == nil {
			continue
		}
		for _, what := range rs.leaked(p.logs.String() + p.out.String()) {
			t.Errorf("%s appears in %s's output", what, p.name)
		}
	}
}

// leaked names the secrets text holds: the Neon API key, SESSION_KEYS, the
// provider's client secret, the Stack Auth key the guide was shown once,
// and the values of the people branch's secret columns.
func (rs *replicaSet) leaked(text string) []string {
	secrets := map[string]string{
		"the Neon API key": rs.apiKey,
		"SESSION_KEYS":     rs.sessKeys,
		"the Stack Auth secret server key shown once": rs.stackSecret,
		"a secret column's value":                     replicasSecretMarker,
	}
	if rs.idp != nil {
		secrets["the OIDC client secret"] = rs.idp.ClientSecret
	}
	var found []string
	for what, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			found = append(found, what)
		}
	}
	return found
}
