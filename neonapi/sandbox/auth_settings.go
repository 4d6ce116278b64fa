package sandbox

import (
	"net/http"
	"slices"
)

// authSettings is what the branch-level configuration operations read and
// write. It lives with the integration: disabling Neon Auth forgets it, a new
// branch inherits a copy. Secrets are kept so that the sandbox behaves like a
// service holding them, but no answer ever carries one.
type authSettings struct {
	name             string
	allowLocalhost   bool
	domains          []string // normalised, in the order added
	oauth            []*oauthProvider
	emailAndPassword emailAndPasswordJSON
	emailServer      emailServer
	organization     organizationJSON
	magicLink        magicLinkJSON
	phoneNumber      phoneNumberJSON
	webhook          webhookJSON
}

// oauthProvider is a configured social sign-in provider. Without a client id
// it uses Neon's shared development credentials.
type oauthProvider struct {
	id, clientID, clientSecret, tenantID string
}

func (o *oauthProvider) json() oauthProviderJSON {
	if o.clientID == "" {
		return oauthProviderJSON{ID: o.id, Type: "shared"}
	}
	return oauthProviderJSON{ID: o.id, Type: "standard", ClientID: o.clientID}
}

// emailServer is the branch's email provider: Neon's shared server, or the
// branch's own SMTP server.
type emailServer struct {
	shared                  bool
	host                    string
	port                    int
	username, password      string
	senderEmail, senderName string
}

// defaultSettings are a new integration's settings, as Neon's documentation
// shows them: email and password sign-in with codes, Google through shared
// credentials, Neon's shared email server, localhost allowed, the
// organization plugin on and the other plugins off.
func defaultSettings(appName string) authSettings {
	return authSettings{
		name:           appName,
		allowLocalhost: true,
		domains:        []string{},
		oauth:          []*oauthProvider{{id: "google"}},
		emailAndPassword: emailAndPasswordJSON{
			Enabled: true, EmailVerificationMethod: "otp", AutoSignInAfterVerification: true,
		},
		emailServer:  emailServer{shared: true},
		organization: organizationJSON{Enabled: true, OrganizationLimit: 10, MembershipLimit: 100, CreatorRole: "owner"},
		magicLink:    magicLinkJSON{ExpiresIn: 5},
		phoneNumber:  phoneNumberJSON{OTPExpiresIn: 300},
		webhook:      webhookJSON{EnabledEvents: []string{}, TimeoutSeconds: 5},
	}
}

// clone copies the settings for a new branch.
func (a authSettings) clone() authSettings {
	c := a
	c.domains = slices.Clone(a.domains)
	c.oauth = make([]*oauthProvider, len(a.oauth))
	for i, o := range a.oauth {
		v := *o
		c.oauth[i] = &v
	}
	c.webhook.EnabledEvents = slices.Clone(a.webhook.EnabledEvents)
	return c
}

func (a *authSettings) oauthByID(id string) *oauthProvider {
	for _, o := range a.oauth {
		if o.id == id {
			return o
		}
	}
	return nil
}

// betterAuthOnly reports the features that exist only with Better Auth, as
// updateNeonAuthUserRole does.
func betterAuthOnly(in *integration, feature string) error {
	if in.provider != providerBetterAuth {
		return badRequest("%s needs Neon Auth with better_auth; branch %s uses %s", feature, in.branch.id, in.provider)
	}
	return nil
}

// readAuth answers the integration of the branch named by the path with
// body(in), under the read lock. feature, when set, restricts it to Better
// Auth.
func (s *Sandbox) readAuth(w http.ResponseWriter, r *http.Request, feature string, body func(in *integration) any) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	in, err := s.branchIntegration(r)
	if err != nil {
		return err
	}
	if feature != "" {
		if err := betterAuthOnly(in, feature); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, body(in))
	return nil
}

// writeAuth decodes the request body into req (required), then runs change on
// the branch's integration under the write lock and answers its result with
// status. feature restricts the operation to Better Auth, as in readAuth.
func (s *Sandbox) writeAuth(w http.ResponseWriter, r *http.Request, feature string, status int, req any, change func(in *integration) (any, error)) error {
	if req != nil {
		if err := decodeBody(r, req, true); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.branchIntegration(r)
	if err != nil {
		return err
	}
	if feature != "" {
		if err := betterAuthOnly(in, feature); err != nil {
			return err
		}
	}
	out, err := change(in)
	if err != nil {
		return err
	}
	if out == nil {
		w.WriteHeader(status)
		return nil
	}
	writeJSON(w, status, out)
	return nil
}
