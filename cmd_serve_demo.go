package main

import (
	"context"
	"fmt"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// The demo project with branch-level Neon Auth (Better Auth): its default
// branch keeps Neon's default settings, which are not production-ready, and
// a preview branch made from it differs by one trusted domain, so that the
// readiness checks start red and the comparison has something to show.
const (
	demoProjectBranchAuth = "launchpad"
	demoPreviewBranch     = "preview"
	demoPreviewDomain     = "https://preview.launchpad.example.com"
)

// demoBranchUsers are the people the Better Auth project starts with.
var demoBranchUsers = []neonapi.CreateBranchUserRequest{
	{Email: "margaret@example.com", Name: "Margaret Hamilton"},
	{Email: "katherine@example.com", Name: "Katherine Johnson"},
}

// seedBranchAuth creates the Better Auth demo project through the API, as a
// person would: enable Neon Auth on the default branch, add users, then
// branch it, which copies the integration, its settings and its users.
func (d *demo) seedBranchAuth(ctx context.Context, client *neonapi.Client) error {
	p, err := d.sb.CreateProject(ctx, demoProjectBranchAuth)
	if err != nil {
		return fmt.Errorf("demo: create project: %w", err)
	}
	// As for demo-app, the keys are shown by the dashboard for integrations
	// it enables; these are dropped here, never logged.
	if _, err := client.EnableBranchAuth(ctx, p.ID, p.BranchID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth,
		DatabaseName: p.DatabaseName,
	}); err != nil {
		return fmt.Errorf("demo: enable Better Auth: %w", err)
	}
	for _, u := range demoBranchUsers {
		if _, err := client.CreateBranchUser(ctx, p.ID, p.BranchID, u); err != nil {
			return fmt.Errorf("demo: create user: %w", err)
		}
	}
	br, err := client.CreateBranch(ctx, p.ID, neonapi.CreateBranchRequest{Name: demoPreviewBranch})
	if err != nil {
		return fmt.Errorf("demo: create branch: %w", err)
	}
	if err := client.AddTrustedDomain(ctx, p.ID, br.Branch.ID, neonapi.AddTrustedDomainRequest{
		Domain:       demoPreviewDomain,
		AuthProvider: authprovider.BetterAuth,
	}); err != nil {
		return fmt.Errorf("demo: trust the preview domain: %w", err)
	}
	return nil
}
