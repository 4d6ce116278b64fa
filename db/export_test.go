package db

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// seedNasty stores one user per nasty string, as its name, and returns the
// names by id.
func seedNasty(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	names := map[string]string{}
	for i, s := range append(slices.Clone(nastyStrings), strings.Repeat("ü", 5000)) {
		key := fmt.Sprint("n", i)
		f.insert(t, seedUser{key: key, email: fmt.Sprint(key, "@example.com"), name: s, created: t0.Add(time.Duration(i) * time.Second)})
		names[f.id(key)] = s
	}
	return names
}

func TestExportCSV(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			names := seedNasty(t, f)
			var buf bytes.Buffer
			n, err := f.browser(t, nil).Export(context.Background(), &buf, Filter{}, ExportCSV)
			if err != nil {
				t.Fatal(err)
			}
			records, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			wantHeader := map[authprovider.Provider][]string{
				authprovider.Stack:      {"id", "email", "name", "created_at", "updated_at", "deleted_at", "email_verified"},
				authprovider.BetterAuth: {"id", "email", "name", "created_at", "updated_at", "email_verified", "role", "banned"},
			}[gen]
			if !slices.Equal(records[0], wantHeader) {
				t.Errorf("header = %v, want %v", records[0], wantHeader)
			}
			if n != int64(len(names)) || len(records) != len(names)+1 {
				t.Fatalf("Export returned %d and wrote %d records, want %d", n, len(records)-1, len(names))
			}
			for _, r := range records[1:] {
				if want, ok := names[r[0]]; !ok || r[2] != want {
					t.Errorf("id %s: name %q, want %q", r[0], r[2], want)
				}
			}
			if last := records[len(records)-1]; last[3] != "2026-03-01T12:00:00.000000Z" {
				t.Errorf("oldest created_at = %q, want RFC 3339 in UTC", last[3])
			}
		})
	}
}

// exportJSON exports f as JSON lines and decodes every line.
func exportJSON(t *testing.T, b *UserBrowser, f Filter) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	n, err := b.Export(context.Background(), &buf, f, ExportJSONLines)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rows = append(rows, m)
	}
	if int64(len(rows)) != n {
		t.Fatalf("Export returned %d but wrote %d lines", n, len(rows))
	}
	return rows
}

func TestExportJSONLinesRoundTrip(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			names := seedNasty(t, f)
			rows := exportJSON(t, f.browser(t, nil), Filter{})
			if len(rows) != len(names) {
				t.Fatalf("%d rows, want %d", len(rows), len(names))
			}
			for _, r := range rows {
				if want := names[r["id"].(string)]; r["name"] != want {
					t.Errorf("id %v: name %q, want %q", r["id"], r["name"], want)
				}
				if r["email_verified"] != false || r["created_at"] == nil {
					t.Errorf("row %v", r)
				}
			}
		})
	}
}

// TestExportFilterMatchesBrowse exports with filters whose values are
// inlined as literals and checks they select what Browse's bind parameters
// select.
func TestExportFilterMatchesBrowse(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedNasty(t, f)
			b := f.browser(t, nil)
			filters := []Filter{{Email: "N3@EXAMPLE.COM"}, {ID: f.id("n4")}, {Status: StatusUnverified, Search: "a"}}
			for _, s := range nastyStrings {
				if strings.TrimSpace(s) != "" && len(s) <= maxSearchLen {
					filters = append(filters, Filter{Search: s})
				}
			}
			for _, filter := range filters {
				var got []string
				for _, r := range exportJSON(t, b, filter) {
					got = append(got, r["id"].(string))
				}
				want := walkForward(t, b, PageRequest{Filter: filter})
				if !slices.Equal(got, want) || len(want) == 0 {
					t.Errorf("filter %+v: export %v, browse %v", filter, got, want)
				}
			}
		})
	}
}

// TestExportValueFormats checks how each kind of value is written, on a
// database whose settings would change what COPY writes by default.
func TestExportValueFormats(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			var dbName string
			if err := f.conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&dbName); err != nil {
				t.Fatal(err)
			}
			f.exec(t, "ALTER DATABASE "+dbName+" SET TimeZone = 'America/New_York'")
			f.exec(t, "ALTER DATABASE "+dbName+" SET DateStyle = 'SQL, DMY'")
			f.insert(t, seedUser{key: "alice", email: "a@example.com", name: "A", created: t0.Add(123 * time.Millisecond), verified: true, role: "admin", deleted: true})
			f.insert(t, seedUser{key: "bob", email: "b@example.com", name: "", created: t0})
			b := f.browser(t, nil)
			var want struct{ csv, json []string }
			switch gen {
			case authprovider.Stack:
				f.exec(t, `UPDATE neon_auth.users_sync SET raw_json = raw_json - 'display_name' WHERE id = 'user_bob'`)
				want.csv = []string{
					"id,email,name,created_at,updated_at,deleted_at,email_verified",
					"user_alice,a@example.com,A,2026-03-01T12:00:00.123000Z,2026-03-01T12:01:00.123000Z,2026-03-01T12:01:00.123000Z,true",
					"user_bob,b@example.com,,2026-03-01T12:00:00.000000Z,,,false",
				}
				want.json = []string{
					`{"id":"user_alice","email":"a@example.com","name":"A","created_at":"2026-03-01T12:00:00.123000Z","updated_at":"2026-03-01T12:01:00.123000Z","deleted_at":"2026-03-01T12:01:00.123000Z","email_verified":true}`,
					`{"id":"user_bob","email":"b@example.com","name":null,"created_at":"2026-03-01T12:00:00.000000Z","updated_at":null,"deleted_at":null,"email_verified":false}`,
				}
			case authprovider.BetterAuth:
				f.exec(t, `UPDATE neon_auth."user" SET banned = true, "createdAt" = "createdAt" + interval '456 microseconds' WHERE id = $1`, f.id("alice"))
				f.exec(t, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", "createdAt", "updatedAt", banned)
VALUES ($1, 'C', 'c@example.com', false, $2, $2, false)`, f.id("carol"), t0.Add(-time.Hour))
				a, bob, c := f.id("alice"), f.id("bob"), f.id("carol")
				want.csv = []string{
					"id,email,name,created_at,updated_at,email_verified,role,banned",
					a + ",a@example.com,A,2026-03-01T12:00:00.123456Z,2026-03-01T12:00:00.123000Z,true,admin,true",
					bob + `,b@example.com,"",2026-03-01T12:00:00.000000Z,2026-03-01T12:00:00.000000Z,false,,`,
					c + ",c@example.com,C,2026-03-01T11:00:00.000000Z,2026-03-01T11:00:00.000000Z,false,,false",
				}
				want.json = []string{
					`{"id":"` + a + `","email":"a@example.com","name":"A","created_at":"2026-03-01T12:00:00.123456Z","updated_at":"2026-03-01T12:00:00.123000Z","email_verified":true,"role":"admin","banned":true}`,
					`{"id":"` + bob + `","email":"b@example.com","name":"","created_at":"2026-03-01T12:00:00.000000Z","updated_at":"2026-03-01T12:00:00.000000Z","email_verified":false,"role":null,"banned":null}`,
					`{"id":"` + c + `","email":"c@example.com","name":"C","created_at":"2026-03-01T11:00:00.000000Z","updated_at":"2026-03-01T11:00:00.000000Z","email_verified":false,"role":null,"banned":false}`,
				}
			}
			for format, lines := range map[ExportFormat][]string{ExportCSV: want.csv, ExportJSONLines: want.json} {
				var buf bytes.Buffer
				if _, err := b.Export(context.Background(), &buf, Filter{}, format); err != nil {
					t.Fatal(err)
				}
				got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
				if !slices.Equal(got, lines) {
					t.Errorf("%s:\n%s\nwant\n%s", format, strings.Join(got, "\n"), strings.Join(lines, "\n"))
				}
			}
		})
	}
}

func TestExportRefusesBadInput(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	b := f.browser(t, nil)
	var buf bytes.Buffer
	_, err := b.Export(context.Background(), &buf, Filter{Search: "x\x00"}, ExportCSV)
	wantInputError(t, err, "q")
	_, err = b.Export(context.Background(), &buf, Filter{}, "xlsx")
	wantInputError(t, err, "format")
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes for a refused export", buf.Len())
	}
}

// TestExportCSVNeutralisesFormulas: names and emails a spreadsheet would run
// as formulas are written with a leading quote in CSV, and exactly in JSON
// lines.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	hostile := []string{`=HYPERLINK("http://evil.test","x")`, `+cmd|' /C calc'!A0`, `-2+3`, `@SUM(1+1)`, "\t=1+1", "\r=1+1"}
	harmless := []string{"Ada Lovelace", "a=b", "x-1", ""}
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			want := map[string]string{}
			for i, s := range append(slices.Clone(hostile), harmless...) {
				key := fmt.Sprint("h", i)
				f.insert(t, seedUser{key: key, email: fmt.Sprint(key, "@example.com"), name: s, created: t0.Add(time.Duration(i) * time.Second)})
				want[f.id(key)] = s
			}
			b := f.browser(t, nil)
			var buf bytes.Buffer
			if _, err := b.Export(context.Background(), &buf, Filter{}, ExportCSV); err != nil {
				t.Fatal(err)
			}
			records, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range records[1:] {
				name := want[r[0]]
				exp := name
				if slices.Contains(hostile, name) {
					exp = "'" + name
				}
				if r[2] != exp {
					t.Errorf("CSV name %q written as %q, want %q", name, r[2], exp)
				}
			}
			for _, row := range exportJSON(t, b, Filter{}) {
				id, _ := row["id"].(string)
				if got, _ := row["name"].(string); got != want[id] {
					t.Errorf("JSON name %q written as %q, want it exact", want[id], got)
				}
			}
		})
	}
}

// failAfter passes n writes through, then fails: a reader gone midway.
type failAfter struct {
	n   int
	buf bytes.Buffer
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, fmt.Errorf("reader gone")
	}
	w.n--
	return w.buf.Write(p)
}

// TestExportCutShortCountsRows: an export that fails midway reports the
// rows it did write, not zero.
func TestExportCutShortCountsRows(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	seedMany(t, f, 300, 0)
	for format, writes := range map[ExportFormat]int{ExportCSV: 41, ExportJSONLines: 40} {
		w := &failAfter{n: writes}
		n, err := f.browser(t, nil).Export(context.Background(), w, Filter{}, format)
		if err == nil {
			t.Fatalf("%s: an export whose reader failed succeeded", format)
		}
		if n != 40 {
			t.Errorf("%s: cut export reports %d rows, want the 40 written", format, n)
		}
	}
}
