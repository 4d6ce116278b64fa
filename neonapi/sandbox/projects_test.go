package sandbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

type projectsPage struct {
	Projects   []projectListItemJSON `json:"projects"`
	Pagination *struct {
		Cursor string `json:"cursor"`
	} `json:"pagination"`
	Applications map[string][]string `json:"applications"`
	Integrations map[string][]string `json:"integrations"`
}

func TestListProjectsPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	var made []string
	for _, name := range []string{"alpha", "beta", "gamma", "delta", "alphabet"} {
		p, err := e.sb.CreateProject(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if !idPattern.MatchString(p.ID) || !strings.HasPrefix(p.BranchID, "br-") || p.DatabaseName != "neondb" || p.RoleName != "neondb_owner" {
			t.Fatalf("CreateProject made %+v", p)
		}
		made = append(made, p.ID)
	}

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page projectsPage
		e.expect("GET", "/projects?limit=2&cursor="+url.QueryEscape(cursor), nil, http.StatusOK, &page)
		if page.Projects == nil || page.Applications == nil || page.Integrations == nil {
			t.Fatalf("page misses required fields: %+v", page)
		}
		if len(page.Projects) == 0 {
			if page.Pagination != nil {
				t.Errorf("an empty page has a cursor")
			}
			break
		}
		if len(page.Projects) > 2 || page.Pagination == nil || page.Pagination.Cursor != page.Projects[len(page.Projects)-1].ID {
			t.Fatalf("page %+v", page)
		}
		for _, p := range page.Projects {
			seen = append(seen, p.ID)
		}
		cursor = page.Pagination.Cursor
	}
	if !slices.Equal(seen, made) {
		t.Fatalf("pages listed %v, want %v in creation order", seen, made)
	}

	var found projectsPage
	e.expect("GET", "/projects?search=ALPHA", nil, http.StatusOK, &found)
	if len(found.Projects) != 2 || found.Projects[0].Name != "alpha" || found.Projects[1].Name != "alphabet" {
		t.Errorf("search by name: %+v", found.Projects)
	}
	e.expect("GET", "/projects?search="+made[2][len(made[2])-6:], nil, http.StatusOK, &found)
	if len(found.Projects) != 1 || found.Projects[0].ID != made[2] {
		t.Errorf("search by id: %+v", found.Projects)
	}
	e.expect("GET", "/projects", nil, http.StatusOK, &found)
	if len(found.Projects) != 5 {
		t.Errorf("default limit listed %d", len(found.Projects))
	}
}

func TestCreateProjectAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	var out struct {
		Project struct {
			ID        string    `json:"id"`
			Name      string    `json:"name"`
			RegionID  string    `json:"region_id"`
			PgVersion int       `json:"pg_version"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"project"`
		Branch struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			Default bool   `json:"default"`
		} `json:"branch"`
		Databases      []databaseJSON `json:"databases"`
		Roles          []roleJSON     `json:"roles"`
		Endpoints      []endpointJSON `json:"endpoints"`
		Operations     []operationJSON
		ConnectionURIs []connectionDetailsJSON `json:"connection_uris"`
	}
	body := `{"project":{"name":"shop","region_id":"aws-eu-central-1","pg_version":16,"branch":{"name":"prod","role_name":"app","database_name":"shopdb"}},"unknown":1}`
	e.expect("POST", "/projects", body, http.StatusCreated, &out)
	if !idPattern.MatchString(out.Project.ID) || out.Project.Name != "shop" || out.Project.RegionID != "aws-eu-central-1" || out.Project.PgVersion != 16 || out.Project.CreatedAt.IsZero() {
		t.Errorf("project %+v", out.Project)
	}
	if !strings.HasPrefix(out.Branch.ID, "br-") || out.Branch.Name != "prod" || !out.Branch.Default {
		t.Errorf("branch %+v", out.Branch)
	}
	if len(out.Databases) != 1 || out.Databases[0].Name != "shopdb" || out.Databases[0].OwnerName != "app" || len(out.Roles) != 1 || out.Roles[0].Name != "app" {
		t.Errorf("databases %+v roles %+v", out.Databases, out.Roles)
	}
	if len(out.Endpoints) != 1 || len(out.ConnectionURIs) != 1 {
		t.Fatalf("endpoints %+v connection uris %d", out.Endpoints, len(out.ConnectionURIs))
	}

	// The connection URI of the answer reaches a real, empty database.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, out.ConnectionURIs[0].ConnectionURI)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != out.ConnectionURIs[0].ConnectionParameters.Database {
		t.Errorf("current_database %q (%v)", db, err)
	}

	// The branch lists agree.
	var dbs struct {
		Databases []databaseJSON `json:"databases"`
	}
	e.expect("GET", "/projects/"+out.Project.ID+"/branches/"+out.Branch.ID+"/databases", nil, http.StatusOK, &dbs)
	var roles struct {
		Roles []roleJSON `json:"roles"`
	}
	e.expect("GET", "/projects/"+out.Project.ID+"/branches/"+out.Branch.ID+"/roles", nil, http.StatusOK, &roles)
	// The answer carries the new role's password, as Neon's does; the
	// listing does not.
	created := out.Roles[0]
	if created.Password == "" || created.Password != out.ConnectionURIs[0].ConnectionParameters.Password {
		t.Errorf("createProject answered role password %q, connection password set %t; want the same, set", created.Password, out.ConnectionURIs[0].ConnectionParameters.Password != "")
	}
	created.Password = ""
	if len(dbs.Databases) != 1 || dbs.Databases[0] != out.Databases[0] || len(roles.Roles) != 1 || roles.Roles[0] != created {
		t.Errorf("lists %+v %+v", dbs, roles)
	}
	var uri struct {
		URI string `json:"uri"`
	}
	e.expect("GET", "/projects/"+out.Project.ID+"/connection_uri?database_name=shopdb&role_name=app&pooled=true&branch_id="+out.Branch.ID, nil, http.StatusOK, &uri)
	if uri.URI != out.ConnectionURIs[0].ConnectionURI {
		t.Errorf("connection_uri %q, createProject gave %q", uri.URI, out.ConnectionURIs[0].ConnectionURI)
	}
	var got struct {
		Project projectJSON `json:"project"`
	}
	e.expect("GET", "/projects/"+out.Project.ID, nil, http.StatusOK, &got)
	if got.Project.ID != out.Project.ID || got.Project.Name != "shop" || got.Project.ConsumptionPeriodEnd.Before(got.Project.ConsumptionPeriodStart) {
		t.Errorf("getProject %+v", got.Project)
	}
}

func TestListBranches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.seedProject("branches")
	var out struct {
		Branches    []branchJSON   `json:"branches"`
		Annotations map[string]any `json:"annotations"`
		Pagination  struct {
			Next      string `json:"next"`
			SortBy    string `json:"sort_by"`
			SortOrder string `json:"sort_order"`
		} `json:"pagination"`
	}
	e.expect("GET", "/projects/"+p+"/branches?limit=1&sort_by=name&sort_order=asc", nil, http.StatusOK, &out)
	if len(out.Branches) != 1 || out.Branches[0].ID != br || out.Branches[0].Name != "main" || !out.Branches[0].Default ||
		out.Annotations == nil || out.Pagination.Next != "" || out.Pagination.SortBy != "name" || out.Pagination.SortOrder != "asc" {
		t.Fatalf("branches %+v", out)
	}
	e.expect("GET", "/projects/"+p+"/branches?search=nomatch", nil, http.StatusOK, &out)
	if len(out.Branches) != 0 {
		t.Errorf("search listed %+v", out.Branches)
	}
	e.expect("GET", "/projects/"+p+"/branches?sort_by=size", nil, http.StatusBadRequest, nil)
}

func TestCloseDropsDatabases(t *testing.T) {
	t.Parallel()
	admin := pgtest.Require(t)
	sb, err := New(context.Background(), Config{DatabaseURL: admin, SyncDelay: testSyncDelay})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	e := &env{t: t, sb: sb, srv: srv, base: srv.URL + "/api/v2", key: "k"}
	e.createProject("doomed") // creates its database at once
	seeded, err := sb.CreateProject(context.Background(), "seeded")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	databases := func() int {
		t.Helper()
		n, err := count(t, conn, "SELECT count(*) FROM pg_database WHERE datname LIKE $1", "nsb\\_"+sb.pg.prefix+"\\_%")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := databases(); n != 1 {
		t.Fatalf("%d databases after createProject and CreateProject, want 1", n)
	}
	e.connect(seeded.ID) // first use creates the seeded project's database
	if n := databases(); n != 2 {
		t.Fatalf("%d databases after first use, want 2", n)
	}
	srv.Close()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := databases(); n != 0 {
		t.Fatalf("%d databases after Close, want 0", n)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "host=localhost user=postgres", "mysql://x"} {
		if sb, err := New(context.Background(), Config{DatabaseURL: u}); err == nil {
			sb.Close()
			t.Errorf("New(%q) succeeded", u)
		}
	}
}
