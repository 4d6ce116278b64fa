package neonauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// serviceEnv is a Service talking to a sandbox over HTTP, with one project.
type serviceEnv struct {
	sb      *sandbox.Sandbox
	neon    *neonapi.Client
	svc     *Service
	log     *neontest.Requests
	project sandbox.CreatedProject
	// apiURL is the sandbox's Neon API, for a test's own client.
	apiURL string
}

func newServiceEnv(t *testing.T) *serviceEnv {
	t.Helper()
	ctx := context.Background()
	sb, srv := neontest.StartSandbox(t, -1)
	log := &neontest.Requests{}
	neon, err := neonapi.New("test-key", neonapi.WithBaseURL(srv.URL+"/api/v2"), neonapi.WithoutRateLimit(),
		neonapi.WithHTTPClient(&http.Client{Transport: log}))
	if err != nil {
		t.Fatal(err)
	}
	pools := newPools(t)
	p, err := sb.CreateProject(ctx, "svc-test")
	if err != nil {
		t.Fatal(err)
	}
	return &serviceEnv{sb: sb, neon: neon, svc: New(neon, pools, UserDBConfig{}), log: log, project: p, apiURL: srv.URL + "/api/v2"}
}

// TestServicePicksTheGenerationsEndpoints: the same calls reach the
// project-level endpoints for Stack Auth and the branch-level ones for
// Better Auth, and leave the users table as asked.
func TestServicePicksTheGenerationsEndpoints(t *testing.T) {
	tests := []struct {
		provider authprovider.Provider
		// wantPaths are what each step's write request path contains.
		enable, create, remove, disable string
	}{
		{authprovider.Stack, "/projects/auth/create", "/projects/auth/user", "/auth/users/", "/auth/integration/stack"},
		{authprovider.BetterAuth, "/branches/", "/auth/users", "/auth/users/", "/auth"},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			e := newServiceEnv(t)
			ctx := context.Background()
			ref := Ref{ProjectID: e.project.ID, Provider: tt.provider}
			wantWrite := func(step, want string) {
				t.Helper()
				var writes []string
				for _, c := range e.log.Take() {
					if !strings.HasPrefix(c, "GET ") {
						writes = append(writes, c)
					}
				}
				if len(writes) != 1 || !strings.Contains(writes[0], want) {
					t.Errorf("%s sent %v, want one write to %s", step, writes, want)
				}
			}
			keys, err := e.svc.Enable(ctx, EnableRequest{ProjectID: e.project.ID, Provider: tt.provider, BranchID: e.project.BranchID, DatabaseName: e.project.DatabaseName})
			if err != nil || keys.AuthProvider != tt.provider {
				t.Fatalf("Enable: %+v, %v", keys, err)
			}
			wantWrite("Enable", tt.enable)

			u, err := e.svc.CreateUser(ctx, ref, "ada@example.com", "Ada")
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			wantWrite("CreateUser", tt.create)
			if err := e.sb.WaitForSync(ctx); err != nil {
				t.Fatal(err)
			}
			dir, err := e.svc.OpenUsers(ctx, ref)
			if err != nil {
				t.Fatalf("OpenUsers: %v", err)
			}
			if dir.Provider() != tt.provider || dir.Provider().Table() != tt.provider.Table() {
				t.Errorf("users table %s, want %s", dir.Provider().Table(), tt.provider.Table())
			}
			if got, err := dir.Get(ctx, u.ID); err != nil || got.Email != "ada@example.com" {
				t.Fatalf("user in the table: %+v, %v", got, err)
			}
			e.log.Take()

			if err := e.svc.DeleteUser(ctx, ref, u.ID); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			wantWrite("DeleteUser", tt.remove)
			if err := e.svc.Disable(ctx, ref, false); err != nil {
				t.Fatalf("Disable: %v", err)
			}
			wantWrite("Disable", tt.disable)
			ins, err := e.neon.ListIntegrations(ctx, e.project.ID)
			if err != nil || len(ins) != 0 {
				t.Errorf("integrations after Disable: %v, %v", ins, err)
			}
		})
	}
}

func TestServiceRefusesWhatAProviderLacks(t *testing.T) {
	e := newServiceEnv(t)
	ctx := context.Background()
	stack := Ref{ProjectID: e.project.ID, Provider: authprovider.Stack}
	better := Ref{ProjectID: e.project.ID, Provider: authprovider.BetterAuth}
	for name, err := range map[string]error{
		"role of a Stack Auth user": e.svc.SetUserRole(ctx, stack, "u-1", []string{"admin"}),
		"transfer Better Auth":      second(e.svc.TransferOwnership(ctx, better)),
		"keys for Better Auth":      second(e.svc.CreateSDKKeys(ctx, better)),
		"unknown provider":          e.svc.DeleteUser(ctx, Ref{ProjectID: e.project.ID, Provider: "mock"}, "u-1"),
	} {
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	if calls := e.log.Take(); len(calls) != 0 {
		t.Errorf("refusals called Neon: %v", calls)
	}
	// Better Auth writes on a project without the integration say so.
	if err := e.svc.DeleteUser(ctx, better, "u-1"); !errors.Is(err, ErrNoIntegration) {
		t.Errorf("DeleteUser without integration: %v, want ErrNoIntegration", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestServiceUnreadableWriteIsOutcomeUnknown: a write Neon answers with a 200
// it cannot parse is neither success nor failure, and carries the request id.
func TestServiceUnreadableWriteIsOutcomeUnknown(t *testing.T) {
	e := newServiceEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Enable(ctx, EnableRequest{ProjectID: e.project.ID, Provider: authprovider.Stack, BranchID: e.project.BranchID, DatabaseName: e.project.DatabaseName}); err != nil {
		t.Fatal(err)
	}
	ref := Ref{ProjectID: e.project.ID, Provider: authprovider.Stack}
	u, err := e.svc.CreateUser(ctx, ref, "kept@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultMalformed, PathContains: "/auth/users/"})
	err = e.svc.DeleteUser(ctx, ref, u.ID)
	var unknown *OutcomeUnknownError
	if !errors.As(err, &unknown) || !errors.Is(err, ErrOutcomeUnknown) || unknown.RequestID == "" || unknown.Change != "the user was deleted" {
		t.Fatalf("DeleteUser = %#v, want an OutcomeUnknownError with a request id", err)
	}
	// A refusal stays a refusal: only an unreadable success is unknown.
	e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultLocked, Count: 10, PathContains: "/auth/users/"})
	defer e.sb.ClearFaults()
	if err := e.svc.DeleteUser(ctx, ref, u.ID); errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, neonapi.ErrLocked) {
		t.Errorf("locked DeleteUser = %v, want ErrLocked", err)
	}
}

// TestDisableForgetsTheDatabase: once an integration is removed, the next
// Open resolves again instead of reusing its connection.
func TestDisableForgetsTheDatabase(t *testing.T) {
	e := newServiceEnv(t)
	ctx := context.Background()
	ref := Ref{ProjectID: e.project.ID, Provider: authprovider.Stack}
	if _, err := e.svc.Enable(ctx, EnableRequest{ProjectID: e.project.ID, Provider: authprovider.Stack, BranchID: e.project.BranchID, DatabaseName: e.project.DatabaseName}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.OpenUsers(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Disable(ctx, ref, true); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.OpenUsers(ctx, ref)
	if !errors.Is(err, ErrNoIntegration) {
		t.Errorf("Open after Disable: %v, want ErrNoIntegration", err)
	}
}
