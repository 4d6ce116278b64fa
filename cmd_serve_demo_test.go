package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/internal/secret"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// TestDemoSeedsBranchAuthProject: the demo's Better Auth project has its
// default branch and a preview branch, both with Neon Auth, both starting
// short of production-ready, and the preview trusting one domain more.
func TestDemoSeedsBranchAuthProject(t *testing.T) {
	dbURL := pgtest.Require(t)
	ctx := context.Background()
	d, err := startDemo(ctx, Config{DatabaseURL: secret.Value(dbURL), SyncDelay: -1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close demo: %v", err)
		}
	})
	client, err := neonapi.New(d.APIKey, neonapi.WithBaseURL(d.APIURL))
	if err != nil {
		t.Fatal(err)
	}
	page, err := client.ListProjects(ctx, neonapi.ListProjectsOptions{Search: demoProjectBranchAuth})
	if err != nil || len(page.Projects) != 1 {
		t.Fatalf("find %s: %v, %+v", demoProjectBranchAuth, err, page)
	}
	pid := page.Projects[0].ID
	branches, err := client.ListBranches(ctx, pid)
	if err != nil || len(branches) != 2 {
		t.Fatalf("branches of %s: %v, %+v", demoProjectBranchAuth, err, branches)
	}
	for _, b := range branches {
		if b.Default == (b.Name == demoPreviewBranch) {
			t.Errorf("branch %q default=%v", b.Name, b.Default)
		}
		r, err := neonauth.ReadBranchSettings(ctx, client, pid, b.ID)
		if err != nil {
			t.Fatalf("settings of %s: %v", b.Name, err)
		}
		ready := neonauth.CheckReadiness(r)
		if ready.Summary.Status != neonauth.StatusRed {
			t.Errorf("%s starts %s, want red: %+v", b.Name, ready.Summary.Status, ready.Summary)
		}
		domains := ready.Items[0]
		if want := b.Name == demoPreviewBranch; (domains.Status == neonauth.StatusGreen) != want || domains.Key != "trusted-domains" {
			t.Errorf("%s: %s is %s (%s)", b.Name, domains.Key, domains.Status, domains.Explanation)
		}
	}
}
