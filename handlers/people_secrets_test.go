package handlers

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/peopleseed"
	"github.com/neonauth-admin/dashboard/internal/routetest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// branchBase is where every route over one branch starts.
const branchBase = "/projects/:id/branches/:branch"

// secretColumns are the columns no page, fragment, export, log or audit
// line may carry, each with the statement that counts its marked values.
var secretColumns = map[string]string{
	"session.token":          `SELECT count(*) FROM neon_auth.session WHERE token LIKE $1`,
	`account."accessToken"`:  `SELECT count(*) FROM neon_auth.account WHERE "accessToken" LIKE $1`,
	`account."refreshToken"`: `SELECT count(*) FROM neon_auth.account WHERE "refreshToken" LIKE $1`,
	`account."idToken"`:      `SELECT count(*) FROM neon_auth.account WHERE "idToken" LIKE $1`,
	"account.password":       `SELECT count(*) FROM neon_auth.account WHERE password LIKE $1`,
	"verification.value":     `SELECT count(*) FROM neon_auth.verification WHERE value LIKE $1`,
	`jwks."privateKey"`:      `SELECT count(*) FROM neon_auth.jwks WHERE "privateKey" LIKE $1`,
}

// secretsQueries are the queries each branch GET route is asked with, so
// that its filters, formats and pages are read too ("" is none); a route
// missing here is asked without one. A key that is no route of the table
// fails the test: the routes moved and the queries went unused.
func secretsQueries(email, uid string) map[string][]string {
	return map[string][]string{
		branchBase + "/users":           {"", "q=" + email},
		branchBase + "/users/browse":    {"", "q=" + email, "size=50", "last=1"},
		branchBase + "/users/count":     {"", "exact=1"},
		branchBase + "/users/export":    {"format=csv", "format=jsonl", "format=csv&q=" + email},
		branchBase + "/users/lookup":    {"q=" + email, "q=" + uid},
		branchBase + "/users/:uid/sync": {"", "watch=role&role=admin"},
		branchBase + "/sessions": {"", "user=" + email, "user=" + uid, "ip=10.0.", "ip=192.168.", "ua=Firefox", "impersonated=1",
			"expired=1", "from=2000-01-01&to=2100-01-01", "exact=1", "last=1", "size=50"},
		branchBase + "/sessions/revoke":       {"", "ip=10.0.", "user=" + uid + "&expired=1", "ua=curl"},
		branchBase + "/organizations":         {"", "q=org"},
		branchBase + "/users/signups":         {"", "range=365d&bucket=week"},
		branchBase + "/activity/active-users": {"", "range=365d&bucket=month", "range=30d&bucket=day"},
		branchBase + "/activity/sign-ins":     {"", "range=90d&bucket=week"},
	}
}

// secretsApp is the dashboard with its real security, its audit log and its
// log captured, and two Better Auth branches whose people differ, each
// seeded through peopleseed with the same secret marker.
type secretsApp struct {
	*testApp
	browser     *flowBrowser
	logs, audit *lockedBuffer
	main, prev  neonapi.Branch
	mainDB      *pgx.Conn
	prevDB      *pgx.Conn
	marker      string
}

func newSecretsApp(t *testing.T) *secretsApp {
	t.Helper()
	logs, audit := &lockedBuffer{}, &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newTestApp(t,
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: identity.AuditTransport(nil)})),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", Logger: logger, AuditLog: audit})
			if err != nil {
				t.Fatal(err)
			}
			h.Security = sec
			h.Logger = logger
			useMemoryJobs(t, h)
		}))
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	bs := a.createBranches("preview")
	sa := &secretsApp{testApp: a, browser: browser, logs: logs, audit: audit, main: bs["main"], prev: bs["preview"],
		marker: "MARK" + rand.Text()}
	a.enableBetterAuthOn(sa.main)
	a.enableBetterAuthOn(sa.prev)
	ctx := context.Background()
	for _, b := range []struct {
		neonapi.Branch
		users int
	}{{sa.main, 3}, {sa.prev, 8}} {
		for i := range b.users {
			email := b.Name + strconv.Itoa(i+1) + "@people.test"
			if _, err := a.Neon.CreateBranchUser(ctx, a.projectID, b.ID, neonapi.CreateBranchUserRequest{Email: email, Name: "Person " + strconv.Itoa(i+1)}); err != nil {
				t.Fatalf("create %s: %v", email, err)
			}
		}
	}
	a.waitForSync()
	sa.mainDB, sa.prevDB = a.personDB(sa.main.ID), a.personDB(sa.prev.ID)
	for _, conn := range []*pgx.Conn{sa.mainDB, sa.prevDB} {
		if err := peopleseed.Seed(ctx, conn, peopleseed.Options{
			SessionsPerUser: 2.5, Organizations: 2, MembersPer: 4, InvitationsPer: 4, SecretMarker: sa.marker,
		}); err != nil {
			t.Fatal(err)
		}
		// The control: every secret column holds the marker, so a page
		// that showed one would show it.
		for col, q := range secretColumns {
			if n := sa.count(conn, q, sa.marker+"%"); n == 0 {
				t.Fatalf("no %s starts with the marker: the test would prove nothing", col)
			}
		}
	}
	return sa
}

// count runs a counting statement on conn.
func (sa *secretsApp) count(conn *pgx.Conn, query string, args ...any) int {
	sa.t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		sa.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// one reads one text value from conn.
func (sa *secretsApp) one(conn *pgx.Conn, query string, args ...any) string {
	sa.t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&s); err != nil {
		sa.t.Fatalf("%s: %v", query, err)
	}
	return s
}

// fill puts params into a route pattern; parameters it has no value for
// get routetest's samples.
func fill(pattern string, params map[string]string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if v, ok := params[p]; ok {
			parts[i] = url.PathEscape(v)
		}
	}
	return routetest.ConcretePath(strings.Join(parts, "/"))
}

// TestPeopleSecretsNeverShow seeds every secret column of a Better Auth
// branch with a marker, then as an admin asks every GET route over the
// branch, plainly and as htmx, with its filters and export formats, and
// makes every people change (ban, unban, revoke one session, a user's
// sessions, a filter's): the marker is in no answer's body or header, no
// audit line and no log line, and the ban's reason is in no audit line.
func TestPeopleSecretsNeverShow(t *testing.T) {
	sa := newSecretsApp(t)
	pid, br := sa.projectID, sa.prev.ID
	at := views.UsersAt{ProjectID: pid, Provider: authprovider.BetterAuth, BranchID: br}

	// The user the routes ask about has sessions, every kind of linked
	// account (tokens, an id token and a password hash) and a membership.
	uid := sa.one(sa.prevDB, `SELECT u.id::text FROM neon_auth."user" u
 WHERE EXISTS (SELECT 1 FROM neon_auth.session s WHERE s."userId" = u.id AND s."expiresAt" > now())
   AND EXISTS (SELECT 1 FROM neon_auth.account a WHERE a."userId" = u.id AND a."idToken" IS NOT NULL)
   AND EXISTS (SELECT 1 FROM neon_auth.member m WHERE m."userId" = u.id)
 ORDER BY u."createdAt" LIMIT 1`)
	email := sa.one(sa.prevDB, `SELECT email FROM neon_auth."user" WHERE id = $1`, uid)
	sid := sa.one(sa.prevDB, `SELECT id::text FROM neon_auth.session WHERE "userId" = $1 AND "expiresAt" > now() ORDER BY "createdAt" LIMIT 1`, uid)
	oid := sa.one(sa.prevDB, `SELECT "organizationId"::text FROM neon_auth.member WHERE "userId" = $1 LIMIT 1`, uid)
	params := map[string]string{":id": pid, ":branch": br, ":uid": uid, ":sid": sid, ":oid": oid}

	// Every GET route over the branch, from the route table.
	queries := secretsQueries(email, uid)
	var want []string
	for _, r := range sa.Handler.Routes() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, branchBase+"/") {
			want = append(want, r.Path)
		}
	}
	for p := range queries {
		if !slices.Contains(want, p) {
			t.Errorf("queries for %s, which is no branch GET route of the table", p)
		}
	}
	visited := map[string]int{}
	pages := map[string]*testResponse{}
	for _, r := range sa.Handler.Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, branchBase+"/") {
			continue
		}
		qs, ok := queries[r.Path]
		if !ok {
			qs = []string{""}
		}
		for _, q := range qs {
			path := fill(r.Path, params)
			if q != "" {
				path += "?" + q
			}
			for _, htmx := range []bool{false, true} {
				var got *testResponse
				if htmx {
					got = sa.htmxGet(path, "")
				} else {
					got = sa.get(path)
				}
				if got.Status >= 400 {
					t.Errorf("GET %s (htmx %v) answered %d; an admin asking with real values should get an answer:\n%.1500s", path, htmx, got.Status, got.Body)
				}
				if !htmx && q == "" {
					pages[r.Path] = got
				}
				visited[r.Path]++
			}
		}
	}
	t.Logf("asked %d branch GET routes: %q", len(visited), want)
	if len(visited) != len(want) {
		var missed []string
		for _, p := range want {
			if visited[p] == 0 {
				missed = append(missed, p)
			}
		}
		t.Errorf("visited %d of the %d branch GET routes; missed %q", len(visited), len(want), missed)
	}
	for _, p := range []string{"/users/:uid/detail", "/users/export", "/sessions", "/sessions/revoke", "/organizations", "/organizations/:oid"} {
		if visited[branchBase+p] == 0 {
			t.Errorf("the route table has no GET %s: the test cannot see its answer", branchBase+p)
		}
	}

	// The answers read the people tables: a page that failed to read them
	// would hide no secret by merit.
	active := sa.count(sa.prevDB, `SELECT count(*) FROM neon_auth.session WHERE "expiresAt" > now()`)
	if got := pages[branchBase+"/sessions"].byTestID("session-row").Length(); got != active {
		t.Errorf("the sessions page lists %d sessions, want the %d active ones", got, active)
	}
	detail := pages[branchBase+"/users/:uid/detail"]
	if got, want := detail.byTestID("person-session").Length(), sa.count(sa.prevDB, `SELECT count(*) FROM neon_auth.session WHERE "userId" = $1`, uid); got == 0 || got > want {
		t.Errorf("the detail page lists %d sessions of the user's %d", got, want)
	}
	if got, want := detail.byTestID("person-account").Length(), sa.count(sa.prevDB, `SELECT count(*) FROM neon_auth.account WHERE "userId" = $1`, uid); got != want {
		t.Errorf("the detail page lists %d linked accounts, want %d", got, want)
	}
	if detail.byTestID("person-membership").Length() == 0 {
		t.Error("the detail page lists no organization")
	}
	org := pages[branchBase+"/organizations/:oid"]
	if got, want := org.byTestID("member-row").Length(), sa.count(sa.prevDB, `SELECT count(*) FROM neon_auth.member WHERE "organizationId" = $1`, oid); got != want {
		t.Errorf("the organization page lists %d members, want %d", got, want)
	}
	if org.byTestID("invitation-row").Length() == 0 {
		t.Error("the organization page lists no invitation")
	}
	if got := pages[branchBase+"/organizations"].byTestID("organization-row").Length(); got != 2 {
		t.Errorf("the organizations page lists %d organizations, want 2", got)
	}
	if csv := sa.get(fill(branchBase+"/users/export", params) + "?format=csv"); csv.Status != http.StatusOK || strings.Count(strings.TrimSpace(csv.Body), "\n") != 8 {
		t.Errorf("the csv export answered %d with %d lines, want 200 with 8 users:\n%.1000s", csv.Status, strings.Count(csv.Body, "\n"), csv.Body)
	}

	// The changes, each audited.
	mainSessions := sa.count(sa.mainDB, `SELECT count(*) FROM neon_auth.session`)
	reason := "REASON" + rand.Text()
	banned := sa.one(sa.prevDB, `SELECT "userId"::text FROM neon_auth.session WHERE "userId" <> $1 AND "expiresAt" > now() ORDER BY "createdAt" DESC LIMIT 1`, uid)
	until := time.Now().UTC().Add(48 * time.Hour).Format(views.BanExpiresLayout)
	sa.htmxPost(at.User(banned, "/ban"), url.Values{"reason": {reason}, "expires": {until}}).wantStatus(t, http.StatusNoContent)
	if page := sa.get(views.UserDetailURL(at, banned)); page.byTestID("ban-state").AttrOr("data-state", "") != "active" {
		t.Errorf("after the ban the detail page shows ban state %q", page.byTestID("ban-state").AttrOr("data-state", ""))
	}
	sa.postForm(at.User(banned, "/unban"), nil).wantStatus(t, http.StatusSeeOther)

	sessions := fill(branchBase+"/sessions", params)
	sa.postForm(fill(branchBase+"/sessions/:sid/revoke", params), url.Values{"return_to": {sessions}}).wantStatus(t, http.StatusSeeOther)
	sa.get(sessions).wantStatus(t, http.StatusOK) // the flash
	sa.postForm(fill(branchBase+"/users/:uid/sessions/revoke", params), url.Values{"return_to": {sessions}}).wantStatus(t, http.StatusSeeOther)
	sa.get(sessions).wantStatus(t, http.StatusOK)

	confirm := sa.get(sessions + "/revoke?ip=10.0.")
	confirm.wantStatus(t, http.StatusOK)
	matched := confirm.text("revoke-count")
	if n, err := strconv.Atoi(matched); err != nil || n == 0 {
		t.Fatalf("the confirmation counts %q sessions from 10.0.; the seed gives some", matched)
	}
	sa.postForm(sessions+"/revoke", url.Values{"ip": {"10.0."}, "count": {matched}}).wantStatus(t, http.StatusSeeOther)
	sa.get(sessions+"?ip=10.0.").wantStatus(t, http.StatusOK)
	sa.get(views.UserDetailURL(at, uid)).wantStatus(t, http.StatusOK)

	// The changes reached preview's database, and main's not at all.
	if n := sa.count(sa.prevDB, `SELECT count(*) FROM neon_auth.session WHERE "userId" IN ($1, $2)`, banned, uid); n != 0 {
		t.Errorf("preview keeps %d sessions of the banned user and the user whose sessions were revoked", n)
	}
	if n := sa.count(sa.prevDB, `SELECT count(*) FROM neon_auth.session WHERE "ipAddress" LIKE '10.0.%' AND "expiresAt" > now()`); n != 0 {
		t.Errorf("preview keeps %d active sessions from 10.0. after they were revoked", n)
	}
	if n := sa.count(sa.mainDB, `SELECT count(*) FROM neon_auth.session`); n != mainSessions {
		t.Errorf("main's sessions went from %d to %d on changes made on preview", mainSessions, n)
	}

	// Every audit line, and none carries a secret or the ban's reason.
	var actions []string
	for _, line := range sa.audit.Lines(t) {
		if a, _ := line["action"].(string); a != "" {
			actions = append(actions, a)
		}
	}
	for _, a := range []string{"user.export", "user.ban", "user.unban", "session.revoke", "session.revoke_user", "session.revoke_filter"} {
		if !slices.Contains(actions, a) {
			t.Errorf("no %s audit line among %q", a, actions)
		}
	}
	if strings.Contains(sa.audit.String(), sa.marker) {
		t.Errorf("an audit line carries a secret:\n%s", sa.audit)
	}
	if strings.Contains(sa.audit.String(), reason) {
		t.Errorf("an audit line carries the ban's reason:\n%s", sa.audit)
	}
	if strings.Contains(sa.logs.String(), sa.marker) {
		t.Errorf("a log line carries a secret:\n%s", sa.logs)
	}
	exchanges := sa.browser.exchanges()
	for _, x := range exchanges {
		if strings.Contains(x.body, sa.marker) {
			i := strings.Index(x.body, sa.marker)
			t.Errorf("%s %s (%d) shows a secret: …%s…", x.method, x.path, x.status, x.body[max(0, i-200):min(len(x.body), i+100)])
		}
		for k, vs := range x.header {
			for _, v := range vs {
				if strings.Contains(v, sa.marker) {
					t.Errorf("%s %s (%d) sends a secret in its %s header", x.method, x.path, x.status, k)
				}
			}
		}
	}
	if len(exchanges) < 2*len(want) {
		t.Errorf("%d answers recorded for %d routes asked twice each", len(exchanges), len(want))
	}
}
