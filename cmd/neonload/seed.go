package main

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// project is a seeded project: its id and its branches' ids, the default
// branch first, every one with Better Auth.
type project struct {
	ID       string
	Branches []string
}

// seedParallel is how many projects are seeded at once: each branch is a
// real database on the shared Postgres server.
const seedParallel = 3

// seedUsers is how many users each project's default branch starts with;
// its branches copy them.
const seedUsers = 3

// seed creates o.projects projects through the sandbox's API (apiURL, not
// the proxy), each with Better Auth on its default branch and o.branches-1
// more branches with it.
func seed(ctx context.Context, apiURL, key string, o options) ([]project, error) {
	client, err := neonapi.New(key, neonapi.WithBaseURL(apiURL), neonapi.WithoutRateLimit())
	if err != nil {
		return nil, err
	}
	out := make([]project, o.projects)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(seedParallel)
	for i := range out {
		g.Go(func() error {
			p, err := seedProject(gctx, client, fmt.Sprintf("neonload-%02d", i+1), o.branches)
			out[i] = p
			return err
		})
	}
	return out, g.Wait()
}

// seedProject creates one project as a person would: Better Auth on the
// default branch, a few users, then branches of it, which inherit the
// integration, its settings and its users.
func seedProject(ctx context.Context, c *neonapi.Client, name string, branches int) (project, error) {
	cp, err := c.CreateProject(ctx, neonapi.CreateProjectRequest{Name: name})
	if err != nil {
		return project{}, fmt.Errorf("create project %s: %w", name, err)
	}
	p := project{ID: cp.Project.ID, Branches: []string{cp.Branch.ID}}
	dbName := "neondb"
	if len(cp.Databases) > 0 {
		dbName = cp.Databases[0].Name
	}
	enable := neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: dbName}
	if _, err := c.EnableBranchAuth(ctx, p.ID, cp.Branch.ID, enable); err != nil {
		return p, fmt.Errorf("enable Better Auth on %s: %w", name, err)
	}
	for i := range seedUsers {
		u := neonapi.CreateBranchUserRequest{Email: fmt.Sprintf("user%d@%s.example.com", i+1, name), Name: fmt.Sprintf("User %d", i+1)}
		if _, err := c.CreateBranchUser(ctx, p.ID, cp.Branch.ID, u); err != nil {
			return p, fmt.Errorf("create a user in %s: %w", name, err)
		}
	}
	for i := 1; i < branches; i++ {
		br, err := c.CreateBranch(ctx, p.ID, neonapi.CreateBranchRequest{Name: fmt.Sprintf("dev-%02d", i)})
		if err != nil {
			return p, fmt.Errorf("create branch %d of %s: %w", i, name, err)
		}
		p.Branches = append(p.Branches, br.Branch.ID)
		// A sandbox that does not copy the integration to a branch gets it
		// enabled there.
		if _, err := c.GetBranchAuth(ctx, p.ID, br.Branch.ID); errors.Is(err, neonapi.ErrNotFound) {
			_, err = c.EnableBranchAuth(ctx, p.ID, br.Branch.ID, enable)
			if err != nil {
				return p, fmt.Errorf("enable Better Auth on branch %d of %s: %w", i, name, err)
			}
		} else if err != nil {
			return p, fmt.Errorf("read Neon Auth of branch %d of %s: %w", i, name, err)
		}
	}
	return p, nil
}
