package views

import (
	"strings"
	"testing"
	"time"
)

func TestProjectListView(t *testing.T) {
	created := time.Date(2026, 6, 9, 8, 30, 0, 0, time.UTC)
	list := ProjectList{
		Query: "app",
		Rows: []ProjectRow{
			{ID: "p-1", Name: "demo-app", Region: "aws-us-east-2", CreatedAt: created,
				Auth: []AuthBadge{{Provider: "stack", OwnedBy: "neon", TransferStatus: "initiated"}}},
			{ID: "p-2", Name: "plain-app"},
			{ID: "p-3", Name: "broken-app", AuthProblem: &Problem{Title: "x", Message: "503", RequestID: "req-9"}},
		},
		MoreURL:  "/projects?cursor=p-3&q=app",
		FirstURL: "/projects?q=app",
	}
	doc, _ := renderDoc(t, ProjectsView(Chrome{}, ProjectsPage{List: list}))

	rows := byID(doc, "project-row")
	if rows.Length() != 3 {
		t.Fatalf("rows = %d", rows.Length())
	}
	first := rows.Eq(0)
	if got := strings.Join(strings.Fields(first.Find(`[data-testid="auth-badge"]`).Text()), " "); got != "Stack Auth Neon-owned transfer initiated" {
		t.Errorf("badge = %q", got)
	}
	if got := first.Find("time").AttrOr("datetime", ""); got != "2026-06-09T08:30:00Z" {
		t.Errorf("created datetime = %q", got)
	}
	if rows.Eq(1).Find(`[data-testid="auth-none"]`).Length() != 1 {
		t.Error("row without integrations does not say so")
	}
	if got := rows.Eq(2).Find(`[data-testid="auth-state"]`).Text(); !strings.Contains(got, "couldn’t load") || !strings.Contains(got, "req-9") {
		t.Errorf("failed row = %q", got)
	}
	more := byID(doc, "more-projects")
	if more.AttrOr("href", "") != list.MoreURL || more.AttrOr("hx-get", "") != list.MoreURL || more.AttrOr("hx-target", "") != "#more-row" {
		t.Errorf("more link = %v", more.Nodes)
	}
	if byID(doc, "first-page").AttrOr("href", "") != "/projects?q=app" {
		t.Error("no link back to the first page")
	}
	search := doc.Find(`input[name="q"]`)
	if search.AttrOr("value", "") != "app" || search.AttrOr("hx-trigger", "") != "input changed delay:300ms, search" || search.AttrOr("hx-target", "") != "#project-list" {
		t.Errorf("search box attributes wrong: value=%q trigger=%q", search.AttrOr("value", ""), search.AttrOr("hx-trigger", ""))
	}
	form := byID(doc, "project-search")
	if form.AttrOr("method", "") != "get" || form.AttrOr("action", "") != "/projects" {
		t.Error("search does not work without JavaScript")
	}
}

func TestProjectListViewEmptyAndFailed(t *testing.T) {
	cases := []struct {
		name string
		list ProjectList
		want string
	}{
		{"no projects", ProjectList{}, "This API key sees no projects."},
		{"no match", ProjectList{Query: "zzz"}, "No project matches “zzz”."},
		{"past the last page", ProjectList{Query: "zzz", FirstURL: "/projects?q=zzz"}, "No more projects."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, ProjectListView(tc.list))
			if got := strings.TrimSpace(byID(doc, "projects-empty").Text()); got != tc.want {
				t.Errorf("empty text = %q, want %q", got, tc.want)
			}
		})
	}
	doc, _ := renderDoc(t, ProjectListView(ProjectList{Problem: &Problem{Title: "Could not list projects", RequestID: "req-1"}}))
	if doc.Find("table").Length() != 0 || strings.TrimSpace(byID(doc, "request-id").Text()) != "req-1" {
		t.Error("failed list should show the error with its request id instead of a table")
	}
}

func TestProjectRowsViewIsRowsOnly(t *testing.T) {
	_, html := renderDoc(t, ProjectRowsView(ProjectList{Rows: []ProjectRow{{ID: "p-1", Name: "a"}}}))
	if strings.Contains(html, "<table") || !strings.HasPrefix(html, "<tr") {
		t.Errorf("rows fragment = %.120s", html)
	}
	if strings.Contains(html, "more-row") {
		t.Error("last page offers more")
	}
}

// TestProjectsAccessibleNames checks what the browser audit cannot tell
// apart: the search field is named by a real label, and only the first row
// of a later page asks for focus once "load more" swaps it in.
func TestProjectsAccessibleNames(t *testing.T) {
	rows := []ProjectRow{{ID: "p-1", Name: "one"}, {ID: "p-2", Name: "two"}}
	doc, _ := renderDoc(t, ProjectsView(Chrome{}, ProjectsPage{List: ProjectList{Rows: rows}}))
	if doc.Find(`label[for="project-q"]`).Length() != 1 || doc.Find(`input#project-q[name="q"]`).Length() != 1 {
		t.Error("the search field has no label tied to it")
	}
	if n := doc.Find("[data-focus-after-swap]").Length(); n != 0 {
		t.Errorf("the first page marks %d elements to focus", n)
	}

	later, _ := renderDoc(t, ProjectRowsView(ProjectList{Rows: rows, FirstURL: "/projects"}))
	marked := later.Find("[data-focus-after-swap]")
	if marked.Length() != 1 || marked.AttrOr("href", "") != "/projects/p-1" {
		t.Errorf("a later page marks %d elements to focus, want the first row's link", marked.Length())
	}
}
