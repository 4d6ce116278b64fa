package neonapi

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// settingsRead is one of a branch's Neon Auth settings reads: what the
// readiness checklist and the branch comparison read, nine calls a branch.
type settingsRead struct {
	op   string
	sub  string // the path below the branch
	read func(ctx context.Context, c *Client, p, b string) error
}

var settingsReads = []settingsRead{
	{"getProjectBranch", "", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetBranch(ctx, p, b)
		return err
	}},
	{"listBranchNeonAuthTrustedDomains", "/auth/domains", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.ListTrustedDomains(ctx, p, b)
		return err
	}},
	{"getNeonAuthAllowLocalhost", "/auth/allow_localhost", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetAllowLocalhost(ctx, p, b)
		return err
	}},
	{"listBranchNeonAuthOauthProviders", "/auth/oauth_providers", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.ListOAuthProviders(ctx, p, b)
		return err
	}},
	{"getNeonAuthEmailAndPasswordConfig", "/auth/email_and_password", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetEmailAndPasswordConfig(ctx, p, b)
		return err
	}},
	{"getNeonAuthEmailProvider", "/auth/email_provider", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetEmailProvider(ctx, p, b)
		return err
	}},
	{"getNeonAuthPluginConfigs", "/auth/plugins", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetPluginConfigs(ctx, p, b)
		return err
	}},
	{"getNeonAuthPhoneNumberPlugin", "/auth/plugins/phone-number", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetPhoneNumberPlugin(ctx, p, b)
		return err
	}},
	{"getNeonAuthWebhookConfig", "/auth/webhooks", func(ctx context.Context, c *Client, p, b string) error {
		_, err := c.GetWebhookConfig(ctx, p, b)
		return err
	}},
}

// branchGet is the wire's key of a GET below a branch.
func branchGet(p, b, sub string) string { return "GET /projects/" + p + "/branches/" + b + sub }

// newSettingsEnv is a cacheEnv with Better Auth on both projects' default
// branches, and a second branch of the first project, which has it too as a
// copy of the default branch; it returns the second branch's id.
func newSettingsEnv(t *testing.T) (*cacheEnv, string) {
	t.Helper()
	e := newCacheEnv(t)
	e.enableBetterAuth(e.p1.ID, e.p1.BranchID)
	e.enableBetterAuth(e.p2.ID, e.p2.BranchID)
	br, err := e.setup.CreateBranch(context.Background(), e.p1.ID, CreateBranchRequest{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	return e, br.Branch.ID
}

// TestReadCacheKeepsSettingsReads: each settings read reaches Neon once per
// branch while the TTL lasts, and again after it.
func TestReadCacheKeepsSettingsReads(t *testing.T) {
	e, second := newSettingsEnv(t)
	ctx := context.Background()
	p := e.p1.ID
	for _, r := range settingsReads {
		t.Run(r.op, func(t *testing.T) {
			c, w, clock := e.client(t, time.Minute)
			for range 3 {
				for _, b := range []string{e.p1.BranchID, second} {
					if err := r.read(ctx, c, p, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := w.count(branchGet(p, e.p1.BranchID, r.sub)); got != 1 {
				t.Errorf("main read %d times upstream, want 1", got)
			}
			if got := w.count(branchGet(p, second, r.sub)); got != 1 {
				t.Errorf("second branch read %d times upstream, want 1 (branches must not share entries)", got)
			}
			clock.advance(time.Minute)
			if err := r.read(ctx, c, p, e.p1.BranchID); err != nil {
				t.Fatal(err)
			}
			if got := w.count(branchGet(p, e.p1.BranchID, r.sub)); got != 2 {
				t.Errorf("main read %d times upstream after the TTL, want 2", got)
			}
		})
	}
}

// TestReadCacheDoesNotKeepSettingsErrors: a failed settings read is asked
// again.
func TestReadCacheDoesNotKeepSettingsErrors(t *testing.T) {
	e, _ := newSettingsEnv(t)
	ctx := context.Background()
	p, b := e.p1.ID, e.p1.BranchID
	for _, r := range settingsReads {
		t.Run(r.op, func(t *testing.T) {
			c, w, _ := e.client(t, time.Minute)
			e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, PathContains: "/branches/" + b + r.sub, Method: http.MethodGet})
			if err := r.read(ctx, c, p, b); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("first read: err = %v, want Neon's failure", err)
			}
			for range 2 {
				if err := r.read(ctx, c, p, b); err != nil {
					t.Fatalf("read after the failure: %v", err)
				}
			}
			if got := w.count(branchGet(p, b, r.sub)); got != 2 {
				t.Errorf("read %d times upstream, want 2: the failure, then one kept answer", got)
			}
		})
	}
}

// TestReadCacheSettingsHandOutCopies: changing what a read returned does not
// change what the next caller gets, down to plugins and webhook events.
func TestReadCacheSettingsHandOutCopies(t *testing.T) {
	e, _ := newSettingsEnv(t)
	ctx := context.Background()
	p, b := e.p1.ID, e.p1.BranchID
	if err := e.setup.AddTrustedDomain(ctx, p, b, AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.setup.UpdateWebhookConfig(ctx, p, b, WebhookConfig{Enabled: true, WebhookURL: "https://hooks.example.com/x", EnabledEvents: []WebhookEvent{WebhookSendOTP}}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := e.client(t, time.Minute)
	pl, _ := c.GetPluginConfigs(ctx, p, b)
	wh, _ := c.GetWebhookConfig(ctx, p, b)
	d, _ := c.ListTrustedDomains(ctx, p, b)
	if pl == nil || pl.PhoneNumber == nil || len(pl.OAuthProviders) == 0 || wh == nil || len(wh.EnabledEvents) == 0 || len(d) == 0 {
		t.Fatalf("the arranged settings are missing: %+v %+v %+v", pl, wh, d)
	}
	phone, oauth := pl.PhoneNumber.Enabled, pl.OAuthProviders[0].ID
	pl.PhoneNumber.Enabled = !phone
	pl.OAuthProviders[0].ID = "changed"
	wh.EnabledEvents[0] = "changed"
	d[0].Domain = "changed"

	pl, _ = c.GetPluginConfigs(ctx, p, b)
	wh, _ = c.GetWebhookConfig(ctx, p, b)
	d, _ = c.ListTrustedDomains(ctx, p, b)
	if pl.PhoneNumber.Enabled != phone || pl.OAuthProviders[0].ID != oauth || wh.EnabledEvents[0] != WebhookSendOTP || d[0].Domain != "https://app.example.com" {
		t.Errorf("a caller's change reached the cache: %+v %+v %+v", pl.PhoneNumber, wh, d)
	}
}

// projectWrites is every write of the client, called on project p and branch
// b with arguments it sends.
func projectWrites(ctx context.Context, p, b string) map[string]func(c *Client) error {
	const email, user = "someone@example.com", "user-1"
	return map[string]func(c *Client) error{
		"CreateIntegration": func(c *Client) error {
			return errOf(c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: p, BranchID: b, AuthProvider: authprovider.Stack}))
		},
		"TransferOwnership": func(c *Client) error {
			return errOf(c.TransferOwnership(ctx, TransferRequest{ProjectID: p, AuthProvider: authprovider.Stack}))
		},
		"CreateSDKKeys": func(c *Client) error {
			return errOf(c.CreateSDKKeys(ctx, TransferRequest{ProjectID: p, AuthProvider: authprovider.Stack}))
		},
		"DeleteIntegration": func(c *Client) error { return c.DeleteIntegration(ctx, p, authprovider.Stack, false) },
		"EnableBranchAuth": func(c *Client) error {
			return errOf(c.EnableBranchAuth(ctx, p, b, EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth}))
		},
		"DisableBranchAuth": func(c *Client) error { return c.DisableBranchAuth(ctx, p, b, false) },
		"CreateBranch":      func(c *Client) error { return errOf(c.CreateBranch(ctx, p, CreateBranchRequest{})) },
		"CreateDatabase": func(c *Client) error {
			return errOf(c.CreateDatabase(ctx, p, b, CreateDatabaseRequest{Name: "d", OwnerName: "o"}))
		},
		"CreateRole":       func(c *Client) error { return errOf(c.CreateRole(ctx, p, b, CreateRoleRequest{Name: "r"})) },
		"UpdateAuthConfig": func(c *Client) error { return errOf(c.UpdateAuthConfig(ctx, p, b, AuthConfigUpdate{Name: "App"})) },
		"AddTrustedDomain": func(c *Client) error {
			return c.AddTrustedDomain(ctx, p, b, AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth})
		},
		"DeleteTrustedDomains": func(c *Client) error {
			return c.DeleteTrustedDomains(ctx, p, b, DeleteTrustedDomainsRequest{AuthProvider: authprovider.BetterAuth, Domains: []string{"https://app.example.com"}})
		},
		"UpdateAllowLocalhost": func(c *Client) error { return errOf(c.UpdateAllowLocalhost(ctx, p, b, false)) },
		"AddOAuthProvider": func(c *Client) error {
			return errOf(c.AddOAuthProvider(ctx, p, b, AddOAuthProviderRequest{ID: OAuthGitHub}))
		},
		"UpdateOAuthProvider": func(c *Client) error {
			return errOf(c.UpdateOAuthProvider(ctx, p, b, OAuthGoogle, UpdateOAuthProviderRequest{}))
		},
		"DeleteOAuthProvider": func(c *Client) error { return c.DeleteOAuthProvider(ctx, p, b, OAuthGoogle) },
		"UpdateEmailAndPasswordConfig": func(c *Client) error {
			return errOf(c.UpdateEmailAndPasswordConfig(ctx, p, b, EmailAndPasswordConfigUpdate{}))
		},
		"UpdateEmailProvider": func(c *Client) error {
			return errOf(c.UpdateEmailProvider(ctx, p, b, EmailServer{Type: EmailServerShared}))
		},
		"UpdateOrganizationPlugin": func(c *Client) error {
			return errOf(c.UpdateOrganizationPlugin(ctx, p, b, OrganizationConfigUpdate{}))
		},
		"UpdateMagicLinkPlugin": func(c *Client) error {
			return errOf(c.UpdateMagicLinkPlugin(ctx, p, b, MagicLinkConfigUpdate{}))
		},
		"UpdatePhoneNumberPlugin": func(c *Client) error {
			return errOf(c.UpdatePhoneNumberPlugin(ctx, p, b, PhoneNumberConfigUpdate{}))
		},
		"UpdateWebhookConfig": func(c *Client) error { return errOf(c.UpdateWebhookConfig(ctx, p, b, WebhookConfig{})) },
		"CreateUser": func(c *Client) error {
			return errOf(c.CreateUser(ctx, CreateUserRequest{ProjectID: p, AuthProvider: authprovider.Stack, Email: email}))
		},
		"DeleteUser": func(c *Client) error { return c.DeleteUser(ctx, p, user) },
		"CreateBranchUser": func(c *Client) error {
			return errOf(c.CreateBranchUser(ctx, p, b, CreateBranchUserRequest{Email: email}))
		},
		"DeleteBranchUser": func(c *Client) error { return c.DeleteBranchUser(ctx, p, b, user) },
		"UpdateBranchUserRole": func(c *Client) error {
			return errOf(c.UpdateBranchUserRole(ctx, p, b, user, []string{"admin"}))
		},
		"SendTestEmail": func(c *Client) error {
			return errOf(c.SendTestEmail(ctx, p, b, SendTestEmailRequest{RecipientEmail: email}))
		},
	}
}

func errOf[T any](_ T, err error) error { return err }

// writesThatKeepTheCache are the client's writes that need not drop a
// project's entries, each with the reason.
var writesThatKeepTheCache = map[string]string{
	"CreateProject": "a new project: drops the account's reads, tested on its own",
}

// TestReadCacheWriteTableCoversTheClient: every method of Client named like
// a write is either in projectWrites, and so tested to drop the cache, or
// listed with a reason why it need not. A new write added to Client fails
// here until it is one or the other.
func TestReadCacheWriteTableCoversTheClient(t *testing.T) {
	writes := projectWrites(context.Background(), "p", "b")
	client := reflect.TypeFor[*Client]()
	for i := range client.NumMethod() {
		name := client.Method(i).Name
		write := slices.ContainsFunc([]string{"Create", "Add", "Update", "Delete", "Enable", "Disable", "Transfer", "Send", "Set", "Remove", "Invite"},
			func(verb string) bool { return strings.HasPrefix(name, verb) })
		_, tested := writes[name]
		_, exempt := writesThatKeepTheCache[name]
		switch {
		case write && !tested && !exempt:
			t.Errorf("Client.%s looks like a write: add it to projectWrites or to writesThatKeepTheCache", name)
		case !write && (tested || exempt):
			t.Errorf("Client.%s is listed as a write but is not named like one", name)
		}
	}
	for name := range writes {
		if _, ok := client.MethodByName(name); !ok {
			t.Errorf("projectWrites has %s, which Client does not", name)
		}
	}
}

// TestReadCacheEveryWriteDropsSettings: each write, refused by Neon, makes
// every cached settings read of its project ask Neon again, and leaves
// another project's entries alone.
func TestReadCacheEveryWriteDropsSettings(t *testing.T) {
	e, _ := newSettingsEnv(t)
	ctx := context.Background()
	for name, write := range projectWrites(ctx, e.p1.ID, e.p1.BranchID) {
		t.Run(name, func(t *testing.T) {
			c, w, _ := e.client(t, time.Hour)
			readAll := func() {
				t.Helper()
				for _, p := range []sandbox.CreatedProject{e.p1, e.p2} {
					for _, r := range settingsReads {
						if err := r.read(ctx, c, p.ID, p.BranchID); err != nil {
							t.Fatalf("%s on %s: %v", r.op, p.Name, err)
						}
					}
				}
			}
			readAll()
			readAll()
			e.refuseWrites(1)
			if err := write(c); !errors.Is(err, ErrUnavailable) {
				t.Errorf("write: %v, want the sandbox's 503", err)
			}
			e.sb.ClearFaults()
			if n := w.writes(); n != 1 {
				t.Fatalf("%d write requests sent, want 1", n)
			}
			readAll()
			for _, r := range settingsReads {
				// A write to one of the branch's Neon Auth settings keeps the
				// branch itself, which it cannot change.
				want := 2
				if r.sub == "" && strings.Contains(w.lastWrite(), "/branches/"+e.p1.BranchID+"/auth/") {
					want = 1
				}
				if got := w.count(branchGet(e.p1.ID, e.p1.BranchID, r.sub)); got != want {
					t.Errorf("%s on the written project: %d upstream reads, want %d", r.op, got, want)
				}
				if got := w.count(branchGet(e.p2.ID, e.p2.BranchID, r.sub)); got != 1 {
					t.Errorf("%s on another project: %d upstream reads, want 1", r.op, got)
				}
			}
		})
	}
}

// TestReadCacheCreateProjectDropsTheProjectList: a new project shows in the
// next project list, while what is kept about other projects stays.
func TestReadCacheCreateProjectDropsTheProjectList(t *testing.T) {
	e := newCacheEnv(t)
	ctx := context.Background()
	c, w, _ := e.client(t, time.Hour)
	for range 2 {
		if _, err := c.ListProjects(ctx, ListProjectsOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
			t.Fatal(err)
		}
	}
	created, err := c.CreateProject(ctx, CreateProjectRequest{Name: "three"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListProjects(ctx, ListProjectsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(page.Projects, func(p Project) bool { return p.ID == created.Project.ID }) {
		t.Errorf("the project list after createProject lacks the new project %s", created.Project.ID)
	}
	if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
		t.Fatal(err)
	}
	if got := w.count("GET /projects"); got != 2 {
		t.Errorf("project list read %d times upstream, want 2", got)
	}
	if got := w.count("GET /projects/" + e.p1.ID); got != 1 {
		t.Errorf("another project read %d times upstream, want 1", got)
	}
}
