package neonapi

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// errSettingsWrite is what the fake's settings writes answer: a write that
// failed after it may have applied, which must drop the cache all the same.
var errSettingsWrite = errors.New("settings write failed after it may have applied")

func (f *fakeAPI) settingsRead(ctx context.Context, op, projectID, branchID string) error {
	return f.read(ctx, op+":"+projectID+"/"+branchID)
}

func (f *fakeAPI) GetBranch(ctx context.Context, projectID, branchID string) (*Branch, error) {
	if err := f.settingsRead(ctx, "getProjectBranch", projectID, branchID); err != nil {
		return nil, err
	}
	return &Branch{ID: branchID, ProjectID: projectID, Name: "main", Default: true}, nil
}

func (f *fakeAPI) ListTrustedDomains(ctx context.Context, projectID, branchID string) ([]TrustedDomain, error) {
	if err := f.settingsRead(ctx, "listBranchNeonAuthTrustedDomains", projectID, branchID); err != nil {
		return nil, err
	}
	return []TrustedDomain{{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth}}, nil
}

func (f *fakeAPI) GetAllowLocalhost(ctx context.Context, projectID, branchID string) (bool, error) {
	return true, f.settingsRead(ctx, "getNeonAuthAllowLocalhost", projectID, branchID)
}

func (f *fakeAPI) ListOAuthProviders(ctx context.Context, projectID, branchID string) ([]OAuthProvider, error) {
	if err := f.settingsRead(ctx, "listBranchNeonAuthOauthProviders", projectID, branchID); err != nil {
		return nil, err
	}
	return []OAuthProvider{{ID: OAuthGoogle, Type: OAuthShared}}, nil
}

func (f *fakeAPI) GetEmailAndPasswordConfig(ctx context.Context, projectID, branchID string) (*EmailAndPasswordConfig, error) {
	if err := f.settingsRead(ctx, "getNeonAuthEmailAndPasswordConfig", projectID, branchID); err != nil {
		return nil, err
	}
	return &EmailAndPasswordConfig{Enabled: true}, nil
}

func (f *fakeAPI) GetEmailProvider(ctx context.Context, projectID, branchID string) (*EmailServer, error) {
	if err := f.settingsRead(ctx, "getNeonAuthEmailProvider", projectID, branchID); err != nil {
		return nil, err
	}
	return &EmailServer{Type: EmailServerShared}, nil
}

func (f *fakeAPI) GetPluginConfigs(ctx context.Context, projectID, branchID string) (*PluginConfigs, error) {
	if err := f.settingsRead(ctx, "getNeonAuthPluginConfigs", projectID, branchID); err != nil {
		return nil, err
	}
	return &PluginConfigs{PhoneNumber: &PhoneNumberConfig{Enabled: true}, OAuthProviders: []OAuthProvider{{ID: OAuthGitHub}}}, nil
}

func (f *fakeAPI) GetPhoneNumberPlugin(ctx context.Context, projectID, branchID string) (*PhoneNumberConfig, error) {
	if err := f.settingsRead(ctx, "getNeonAuthPhoneNumberPlugin", projectID, branchID); err != nil {
		return nil, err
	}
	return &PhoneNumberConfig{Enabled: true}, nil
}

func (f *fakeAPI) GetWebhookConfig(ctx context.Context, projectID, branchID string) (*WebhookConfig, error) {
	if err := f.settingsRead(ctx, "getNeonAuthWebhookConfig", projectID, branchID); err != nil {
		return nil, err
	}
	return &WebhookConfig{Enabled: true, WebhookURL: "https://hooks.example.com/x", EnabledEvents: []WebhookEvent{WebhookSendOTP}}, nil
}

func (f *fakeAPI) AddTrustedDomain(context.Context, string, string, AddTrustedDomainRequest) error {
	return errSettingsWrite
}

func (f *fakeAPI) DeleteTrustedDomains(context.Context, string, string, DeleteTrustedDomainsRequest) error {
	return errSettingsWrite
}

func (f *fakeAPI) UpdateAllowLocalhost(context.Context, string, string, bool) (bool, error) {
	return false, errSettingsWrite
}

func (f *fakeAPI) AddOAuthProvider(context.Context, string, string, AddOAuthProviderRequest) (*OAuthProvider, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) UpdateOAuthProvider(context.Context, string, string, OAuthProviderID, UpdateOAuthProviderRequest) (*OAuthProvider, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) DeleteOAuthProvider(context.Context, string, string, OAuthProviderID) error {
	return errSettingsWrite
}

func (f *fakeAPI) UpdateEmailAndPasswordConfig(context.Context, string, string, EmailAndPasswordConfigUpdate) (*EmailAndPasswordConfig, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) UpdateEmailProvider(context.Context, string, string, EmailServer) (*EmailServer, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) UpdateOrganizationPlugin(context.Context, string, string, OrganizationConfigUpdate) (*OrganizationConfig, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) UpdateMagicLinkPlugin(context.Context, string, string, MagicLinkConfigUpdate) (*MagicLinkConfig, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) UpdatePhoneNumberPlugin(context.Context, string, string, PhoneNumberConfigUpdate) (*PhoneNumberConfig, error) {
	return nil, errSettingsWrite
}

func (f *fakeAPI) UpdateWebhookConfig(context.Context, string, string, WebhookConfig) (*WebhookConfig, error) {
	return nil, errSettingsWrite
}

// settingsReads are the cached settings reads of one branch, by the op the
// fake counts them under.
var settingsReads = map[string]func(ctx context.Context, c *Cache, p, b string) error{
	"getProjectBranch": func(ctx context.Context, c *Cache, p, b string) error { _, err := c.GetBranch(ctx, p, b); return err },
	"listBranchNeonAuthTrustedDomains": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.ListTrustedDomains(ctx, p, b)
		return err
	},
	"getNeonAuthAllowLocalhost": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.GetAllowLocalhost(ctx, p, b)
		return err
	},
	"listBranchNeonAuthOauthProviders": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.ListOAuthProviders(ctx, p, b)
		return err
	},
	"getNeonAuthEmailAndPasswordConfig": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.GetEmailAndPasswordConfig(ctx, p, b)
		return err
	},
	"getNeonAuthEmailProvider": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.GetEmailProvider(ctx, p, b)
		return err
	},
	"getNeonAuthPluginConfigs": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.GetPluginConfigs(ctx, p, b)
		return err
	},
	"getNeonAuthPhoneNumberPlugin": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.GetPhoneNumberPlugin(ctx, p, b)
		return err
	},
	"getNeonAuthWebhookConfig": func(ctx context.Context, c *Cache, p, b string) error {
		_, err := c.GetWebhookConfig(ctx, p, b)
		return err
	},
}

// TestCacheKeepsSettingsReads: each settings read reaches Neon once per
// branch while the TTL lasts, and again after it.
func TestCacheKeepsSettingsReads(t *testing.T) {
	ctx := context.Background()
	for op, read := range settingsReads {
		t.Run(op, func(t *testing.T) {
			f := newFakeAPI()
			c, clock := newTestCache(f, time.Minute)
			for range 3 {
				for _, b := range []string{"br-1", "br-2"} {
					if err := read(ctx, c, "p1", b); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := f.count(op + ":p1/br-1"); got != 1 {
				t.Errorf("br-1 read %d times upstream, want 1", got)
			}
			if got := f.count(op + ":p1/br-2"); got != 1 {
				t.Errorf("br-2 read %d times upstream, want 1 (branches must not share entries)", got)
			}
			clock.advance(time.Minute)
			if err := read(ctx, c, "p1", "br-1"); err != nil {
				t.Fatal(err)
			}
			if got := f.count(op + ":p1/br-1"); got != 2 {
				t.Errorf("br-1 read %d times upstream after the TTL, want 2", got)
			}
		})
	}
}

// TestCacheDoesNotKeepSettingsErrors: a failed settings read is asked again.
func TestCacheDoesNotKeepSettingsErrors(t *testing.T) {
	ctx := context.Background()
	for op, read := range settingsReads {
		t.Run(op, func(t *testing.T) {
			f := newFakeAPI()
			c, _ := newTestCache(f, time.Minute)
			boom := &APIError{StatusCode: 500, Message: "boom"}
			f.fail[op+":p1/br-1"] = boom
			if err := read(ctx, c, "p1", "br-1"); !errors.Is(err, boom) {
				t.Fatalf("first read: err = %v, want Neon's failure", err)
			}
			for range 2 {
				if err := read(ctx, c, "p1", "br-1"); err != nil {
					t.Fatalf("read after the failure: %v", err)
				}
			}
			if got := f.count(op + ":p1/br-1"); got != 2 {
				t.Errorf("read %d times upstream, want 2: the failure, then one kept answer", got)
			}
		})
	}
}

// TestCacheSettingsHandOutCopies: changing what a read returned does not
// change what the next caller gets, down to plugins and webhook events.
func TestCacheSettingsHandOutCopies(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCache(newFakeAPI(), time.Minute)
	p, _ := c.GetPluginConfigs(ctx, "p1", "br-1")
	p.PhoneNumber.Enabled = false
	p.OAuthProviders[0].ID = "changed"
	w, _ := c.GetWebhookConfig(ctx, "p1", "br-1")
	w.EnabledEvents[0] = "changed"
	d, _ := c.ListTrustedDomains(ctx, "p1", "br-1")
	d[0].Domain = "changed"

	p, _ = c.GetPluginConfigs(ctx, "p1", "br-1")
	w, _ = c.GetWebhookConfig(ctx, "p1", "br-1")
	d, _ = c.ListTrustedDomains(ctx, "p1", "br-1")
	if !p.PhoneNumber.Enabled || p.OAuthProviders[0].ID != OAuthGitHub || w.EnabledEvents[0] != WebhookSendOTP || d[0].Domain != "https://app.example.com" {
		t.Errorf("a caller's change reached the cache: %+v %+v %+v", p.PhoneNumber, w, d)
	}
}

// projectWrites is every write of the API that must drop the project's
// cached entries, called on project p1 and branch br-1.
func projectWrites(ctx context.Context) map[string]func(c *Cache) {
	const p, b = "p1", "br-1"
	return map[string]func(c *Cache){
		"CreateIntegration": func(c *Cache) {
			_, _ = c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: p, AuthProvider: authprovider.Stack})
		},
		"TransferOwnership": func(c *Cache) { _, _ = c.TransferOwnership(ctx, TransferRequest{ProjectID: p}) },
		"CreateSDKKeys":     func(c *Cache) { _, _ = c.CreateSDKKeys(ctx, TransferRequest{ProjectID: p}) },
		"DeleteIntegration": func(c *Cache) { _ = c.DeleteIntegration(ctx, p, authprovider.Stack, false) },
		"EnableBranchAuth": func(c *Cache) {
			_, _ = c.EnableBranchAuth(ctx, p, b, EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
		},
		"DisableBranchAuth": func(c *Cache) { _ = c.DisableBranchAuth(ctx, p, b, false) },
		"CreateBranch":      func(c *Cache) { _, _ = c.CreateBranch(ctx, p, CreateBranchRequest{}) },
		"CreateDatabase":    func(c *Cache) { _, _ = c.CreateDatabase(ctx, p, b, CreateDatabaseRequest{}) },
		"CreateRole":        func(c *Cache) { _, _ = c.CreateRole(ctx, p, b, CreateRoleRequest{}) },
		"UpdateAuthConfig":  func(c *Cache) { _, _ = c.UpdateAuthConfig(ctx, p, b, AuthConfigUpdate{}) },
		"AddTrustedDomain":  func(c *Cache) { _ = c.AddTrustedDomain(ctx, p, b, AddTrustedDomainRequest{}) },
		"DeleteTrustedDomains": func(c *Cache) {
			_ = c.DeleteTrustedDomains(ctx, p, b, DeleteTrustedDomainsRequest{})
		},
		"UpdateAllowLocalhost": func(c *Cache) { _, _ = c.UpdateAllowLocalhost(ctx, p, b, false) },
		"AddOAuthProvider":     func(c *Cache) { _, _ = c.AddOAuthProvider(ctx, p, b, AddOAuthProviderRequest{}) },
		"UpdateOAuthProvider": func(c *Cache) {
			_, _ = c.UpdateOAuthProvider(ctx, p, b, OAuthGoogle, UpdateOAuthProviderRequest{})
		},
		"DeleteOAuthProvider": func(c *Cache) { _ = c.DeleteOAuthProvider(ctx, p, b, OAuthGoogle) },
		"UpdateEmailAndPasswordConfig": func(c *Cache) {
			_, _ = c.UpdateEmailAndPasswordConfig(ctx, p, b, EmailAndPasswordConfigUpdate{})
		},
		"UpdateEmailProvider": func(c *Cache) { _, _ = c.UpdateEmailProvider(ctx, p, b, EmailServer{}) },
		"UpdateOrganizationPlugin": func(c *Cache) {
			_, _ = c.UpdateOrganizationPlugin(ctx, p, b, OrganizationConfigUpdate{})
		},
		"UpdateMagicLinkPlugin":   func(c *Cache) { _, _ = c.UpdateMagicLinkPlugin(ctx, p, b, MagicLinkConfigUpdate{}) },
		"UpdatePhoneNumberPlugin": func(c *Cache) { _, _ = c.UpdatePhoneNumberPlugin(ctx, p, b, PhoneNumberConfigUpdate{}) },
		"UpdateWebhookConfig":     func(c *Cache) { _, _ = c.UpdateWebhookConfig(ctx, p, b, WebhookConfig{}) },
	}
}

// writesThatKeepTheCache are the API's writes that need not drop a project's
// entries, each with the reason.
var writesThatKeepTheCache = map[string]string{
	"CreateProject":        "a new project: drops the project list, tested on its own",
	"CreateUser":           "users are not cached",
	"DeleteUser":           "users are not cached",
	"CreateBranchUser":     "users are not cached",
	"DeleteBranchUser":     "users are not cached",
	"UpdateBranchUserRole": "users are not cached",
	"SendTestEmail":        "sends an email, changes no setting",
}

// TestCacheWriteTableCoversTheAPI: every method of API named like a write is
// either in projectWrites, and so tested to drop the cache, or listed with a
// reason why it need not. A new write added to API fails here until it is
// one or the other.
func TestCacheWriteTableCoversTheAPI(t *testing.T) {
	writes := projectWrites(context.Background())
	api := reflect.TypeFor[API]()
	for i := range api.NumMethod() {
		name := api.Method(i).Name
		write := slices.ContainsFunc([]string{"Create", "Add", "Update", "Delete", "Enable", "Disable", "Transfer", "Send", "Set", "Remove", "Invite"},
			func(verb string) bool { return strings.HasPrefix(name, verb) })
		_, tested := writes[name]
		_, exempt := writesThatKeepTheCache[name]
		switch {
		case write && !tested && !exempt:
			t.Errorf("API.%s looks like a write: add it to projectWrites (and make Cache drop the project) or to writesThatKeepTheCache", name)
		case !write && (tested || exempt):
			t.Errorf("API.%s is listed as a write but is not named like one", name)
		}
	}
	for name := range writes {
		if _, ok := api.MethodByName(name); !ok {
			t.Errorf("projectWrites has %s, which API does not", name)
		}
	}
}

// TestCacheEveryWriteDropsSettings: each write, even a failed one, makes
// every cached settings read of its project, and that project's branch auth,
// ask Neon again, and leaves another project's entries alone.
func TestCacheEveryWriteDropsSettings(t *testing.T) {
	ctx := context.Background()
	for name, write := range projectWrites(ctx) {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI()
			c, _ := newTestCache(f, time.Hour)
			readAll := func() {
				t.Helper()
				for _, p := range []string{"p1", "p2"} {
					for op, read := range settingsReads {
						if err := read(ctx, c, p, "br-1"); err != nil {
							t.Fatalf("%s on %s: %v", op, p, err)
						}
					}
				}
			}
			readAll()
			readAll()
			write(c)
			readAll()
			for op := range settingsReads {
				if got := f.count(op + ":p1/br-1"); got != 2 {
					t.Errorf("%s on the written project: %d upstream reads, want 2 (the write must drop it)", op, got)
				}
				if got := f.count(op + ":p2/br-1"); got != 1 {
					t.Errorf("%s on another project: %d upstream reads, want 1", op, got)
				}
			}
		})
	}
}
