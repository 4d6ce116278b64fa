package handlers

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

func TestUserDetail(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(provider)
			a.seedRows(provider, 20)
			id := a.userIDOf(provider, 10)

			list := a.htmxGet(a.browsePath(provider, url.Values{"q": {"user10@"}}), "users-browser")
			href := list.byTestID("detail-link").AttrOr("href", "")
			if href != views.UserDetailURL(a.usersAt(provider), id) {
				t.Fatalf("row links to %q", href)
			}
			r := a.get(href)
			r.wantStatus(t, http.StatusOK)
			if got := r.text("row-email"); got != "user10@example.com" {
				t.Errorf("email = %q", got)
			}
			cols := map[string]string{}
			r.byTestID("column").Each(func(_ int, s *goquery.Selection) {
				cols[s.AttrOr("data-column", "")] = strings.TrimSpace(s.Find("td").Text())
			})
			var kinds []string
			r.byTestID("timeline-event").Each(func(_ int, s *goquery.Selection) { kinds = append(kinds, s.AttrOr("data-kind", "")) })
			if provider == authprovider.Stack {
				if cols["email"] != "user10@example.com" || cols["deleted_at"] == "NULL" || cols["updated_at"] != "NULL" {
					t.Errorf("columns = %v", cols)
				}
				var raw map[string]any
				if err := json.Unmarshal([]byte(r.text("raw-json")), &raw); err != nil || raw["primary_email"] != "user10@example.com" {
					t.Errorf("raw_json = %v (%v)", raw, err)
				}
				if !strings.Contains(r.text("raw-json"), "\n  \"") {
					t.Error("raw_json is not indented")
				}
				if strings.Join(kinds, ",") != "created,deleted" {
					t.Errorf("timeline = %v", kinds)
				}
				if r.byTestID("delete-link").Length() != 0 {
					t.Error("a deleted user offers delete")
				}
			} else {
				if cols["email"] != "user10@example.com" || cols["role"] != "admin" || cols["emailVerified"] != "true" {
					t.Errorf("columns = %v", cols)
				}
				if r.byTestID("raw-json").Length() != 0 {
					t.Error("Better Auth has no raw_json")
				}
				if strings.Join(kinds, ",") != "created,updated" {
					t.Errorf("timeline = %v", kinds)
				}
				if got := r.Doc.Find(`[data-testid="user-actions"] [data-testid="role-select"] option[selected]`).AttrOr("value", ""); got != "admin" {
					t.Errorf("role form shows %q", got)
				}
				if r.byTestID("delete-link").AttrOr("href", "") != views.DeleteUserURL(a.usersAt(provider), id) {
					t.Errorf("delete link = %q", r.byTestID("delete-link").AttrOr("href", ""))
				}
			}

			// The header counts the table, never "unknown" once it was read.
			if got := r.text("user-total"); got != "20" {
				t.Errorf("detail page's total = %q, want 20", got)
			}
			missing := a.get(views.UserDetailURL(a.usersAt(provider), "nobody"))
			missing.wantStatus(t, http.StatusNotFound)
		})
	}
}

// exportApp is a users app behind the real security stack with proxy
// sign-in, writing its audit lines to audit.
func exportApp(t *testing.T, audit *lockedBuffer) *testApp {
	return newUsersApp(t, usersAppConfig{handler: func(h *Handler) {
		cfg := secAuthConfig(t)
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
		sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: audit})
		if err != nil {
			t.Fatal(err)
		}
		h.Security = sec
	}})
}

func TestExportUsers(t *testing.T) {
	audit := &lockedBuffer{}
	a := exportApp(t, audit)
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	a.enable(authprovider.BetterAuth)
	a.seedRows(authprovider.BetterAuth, 120)

	page := a.htmxGet(a.browsePath(authprovider.BetterAuth, url.Values{"role": {"admin"}}), "users-browser")
	csvURL := page.byTestID("export-csv").AttrOr("href", "")
	jsonlURL := page.byTestID("export-jsonl").AttrOr("href", "")
	if !strings.Contains(csvURL, "role=admin") || !strings.Contains(jsonlURL, "format=jsonl") {
		t.Fatalf("export links %q %q", csvURL, jsonlURL)
	}

	req := a.newRequest(http.MethodGet, csvURL, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("csv export: %d %v", resp.StatusCode, resp.Header)
	}
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 25 || records[0][0] != "id" || records[0][1] != "email" || records[1][1] != "user120@example.com" {
		t.Errorf("csv: %d records, first %v %v", len(records), records[0], records[1])
	}

	lines := strings.Split(strings.TrimSpace(a.get(jsonlURL).Body), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || len(lines) != 24 || first["email"] != "user120@example.com" || first["role"] != "admin" {
		t.Errorf("jsonl: %d lines, first %v (%v)", len(lines), first, err)
	}

	bad := a.get(a.usersSub(authprovider.BetterAuth, "/export", "format=xml"))
	bad.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(bad.Body, "format must be csv or jsonl") {
		t.Errorf("bad format says:\n%s", bad.Body)
	}

	browser.email = viewerEmail
	denied := a.get(csvURL)
	denied.wantStatus(t, http.StatusForbidden)
	viewerPage := a.htmxGet(a.browsePath(authprovider.BetterAuth, nil), "users-browser")
	if viewerPage.byTestID("export-csv").Length() != 0 {
		t.Error("a viewer sees the export buttons")
	}

	var exports []map[string]any
	for _, l := range audit.Lines(t) {
		if l["action"] == "user.export" {
			exports = append(exports, l)
		}
	}
	if len(exports) != 4 {
		t.Fatalf("%d export audit lines, want 4 (csv, jsonl, bad format, denied):\n%s", len(exports), audit)
	}
	want := []map[string]any{
		{"outcome": "ok", "rows": 24.0, "format": "csv", "filter": "role=admin", "actor": adminEmail, "branch": a.project.BranchID},
		{"outcome": "ok", "rows": 24.0, "format": "jsonl"},
		{"outcome": "error", "status": 400.0},
		{"outcome": "denied", "status": 403.0, "actor": viewerEmail},
	}
	for i, w := range want {
		for k, v := range w {
			if exports[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, exports[i][k], v)
			}
		}
	}
}

// TestExportCutShortFails: a database that goes away in the middle of an
// export ends the download as failed (no clean end of the body), and the
// audit line carries the rows that did leave and "incomplete".
func TestExportCutShortFails(t *testing.T) {
	audit := &lockedBuffer{}
	a := exportApp(t, audit)
	a.Client.Transport = &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.enable(authprovider.BetterAuth)
	// Rows of 4 kB make a file far larger than the sockets on the way can
	// hold, so the COPY is still running when the test stops reading.
	const total = 12_000
	a.execUsersSQL(`INSERT INTO neon_auth."user" (name, email, "emailVerified", "createdAt")
		SELECT repeat('x', 4000) || i, 'big' || i || '@example.com', false, now() - i * interval '1 second'
		FROM generate_series(1, $1::int) i`, total)
	uri, err := a.Neon.GetConnectionURI(t.Context(), a.projectID, neonapi.ConnectionURIOptions{
		BranchID: a.project.BranchID, DatabaseName: a.project.DatabaseName, RoleName: a.project.RoleName,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		t.Fatal(err)
	}

	// A client that reads the body as it comes, as a browser does.
	req := a.newRequest(http.MethodGet, a.usersSub(authprovider.BetterAuth, "/export", "format=csv"), nil)
	req.Header.Set("X-Forwarded-User", strings.Split(adminEmail, "@")[0])
	req.Header.Set("X-Forwarded-Email", adminEmail)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Read a little, so the COPY is under way and blocked on the network,
	// then end the server process behind it.
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())
	var ended int
	if err := admin.QueryRow(t.Context(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND query LIKE 'COPY%' AND state = 'active') x`, cfg.Database).Scan(&ended); err != nil || ended != 1 {
		t.Fatalf("terminated %d COPY backends (%v), want 1", ended, err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the cut export ended cleanly after %d more bytes", len(rest))
	}
	var line map[string]any
	for _, l := range audit.Lines(t) {
		if l["action"] == "user.export" {
			line = l
		}
	}
	rows, _ := line["rows"].(float64)
	if line["incomplete"] != true || line["outcome"] != "error" || rows <= 0 || rows >= total {
		t.Errorf("audit line %v, want incomplete, outcome error and 0 < rows < %d", line, total)
	}
}

// TestExportHeadSendsNothing: HEAD on an export answers its headers and
// runs no export.
func TestExportHeadSendsNothing(t *testing.T) {
	audit := &lockedBuffer{}
	a := exportApp(t, audit)
	a.Client.Transport = &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.enable(authprovider.BetterAuth)
	a.seedRows(authprovider.BetterAuth, 30)
	resp, err := a.Client.Do(a.newRequest(http.MethodHead, a.usersSub(authprovider.BetterAuth, "/export", "format=csv"), nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("HEAD export: %d %v", resp.StatusCode, resp.Header)
	}
	for _, l := range audit.Lines(t) {
		if l["action"] == "user.export" {
			if _, counted := l["rows"]; counted || l["headers_only"] != true {
				t.Errorf("HEAD export audited as %v, want headers_only and no rows", l)
			}
		}
	}
}
