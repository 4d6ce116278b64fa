package sandbox

import (
	"net/http"
	"slices"
)

// oauthProviderJSON is the spec's NeonAuthOauthProvider, without the client
// secret, which the sandbox never returns.
type oauthProviderJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	ClientID string `json:"client_id,omitempty"`
}

// oauthRequest is NeonAuthAddOAuthProviderRequest and
// NeonAuthUpdateOAuthProviderRequest.
type oauthRequest struct {
	ID                *string `json:"id"`
	ClientID          *string `json:"client_id"`
	ClientSecret      *string `json:"client_secret"`
	MicrosoftTenantID *string `json:"microsoft_tenant_id"`
}

// oauthIDs are the spec's NeonAuthOauthProviderId values.
var oauthIDs = []string{"google", "github", "microsoft", "vercel"}

// sharedOAuth are the providers Neon offers shared development credentials
// for; the others need the branch owner's own OAuth app.
var sharedOAuth = []string{"google"}

func oauthProvidersJSON(in *integration) []oauthProviderJSON {
	list := []oauthProviderJSON{}
	for _, o := range in.settings.oauth {
		list = append(list, o.json())
	}
	return list
}

func (s *Sandbox) listOAuthProviders(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "", func(in *integration) any {
		return struct {
			Providers []oauthProviderJSON `json:"providers"`
		}{oauthProvidersJSON(in)}
	})
}

// applyOAuth sets o's credentials from req and checks the result: both client
// id and secret, or neither where shared credentials exist; a tenant only for
// Microsoft. An empty secret on an update keeps the one on file; an empty
// client id returns to shared credentials. The spec's update body has no id:
// one sent anyway is ignored, like any unknown field.
func applyOAuth(o *oauthProvider, req oauthRequest) error {
	next := *o
	if req.ClientID != nil {
		next.clientID = *req.ClientID
		if next.clientID == "" {
			next.clientSecret = "" // back to shared credentials
		}
	}
	if req.ClientSecret != nil && *req.ClientSecret != "" {
		next.clientSecret = *req.ClientSecret
	}
	if req.MicrosoftTenantID != nil {
		if o.id != "microsoft" && *req.MicrosoftTenantID != "" {
			return badRequest("microsoft_tenant_id applies to microsoft only")
		}
		next.tenantID = *req.MicrosoftTenantID
	}
	switch {
	case next.clientID == "" && next.clientSecret != "":
		return badRequest("client_secret needs a client_id")
	case next.clientID != "" && next.clientSecret == "":
		return badRequest("client_id needs a client_secret")
	case next.clientID == "" && !slices.Contains(sharedOAuth, o.id):
		return badRequest("%s has no shared credentials: client_id and client_secret are required", o.id)
	}
	*o = next
	return nil
}

func (s *Sandbox) addOAuthProvider(w http.ResponseWriter, r *http.Request) error {
	var req oauthRequest
	return s.writeAuth(w, r, "", http.StatusOK, &req, func(in *integration) (any, error) {
		if req.ID == nil {
			return nil, badRequest("id is required")
		}
		if !slices.Contains(oauthIDs, *req.ID) {
			return nil, badRequest("id must be one of google, github, microsoft, vercel")
		}
		if in.settings.oauthByID(*req.ID) != nil {
			return nil, conflict("OAuth provider %s is already configured on branch %s", *req.ID, in.branch.id)
		}
		o := &oauthProvider{id: *req.ID}
		if err := applyOAuth(o, req); err != nil {
			return nil, err
		}
		in.settings.oauth = append(in.settings.oauth, o)
		return o.json(), nil
	})
}

// oauthProviderFor finds the provider named by the path.
func oauthProviderFor(r *http.Request, in *integration) (*oauthProvider, error) {
	id := r.PathValue("oauth_provider_id")
	if !slices.Contains(oauthIDs, id) {
		return nil, badRequest("oauth_provider_id must be one of google, github, microsoft, vercel")
	}
	o := in.settings.oauthByID(id)
	if o == nil {
		return nil, notFound("OAuth provider %s is not configured on branch %s", id, in.branch.id)
	}
	return o, nil
}

func (s *Sandbox) updateOAuthProvider(w http.ResponseWriter, r *http.Request) error {
	var req oauthRequest
	return s.writeAuth(w, r, "", http.StatusOK, &req, func(in *integration) (any, error) {
		o, err := oauthProviderFor(r, in)
		if err != nil {
			return nil, err
		}
		if err := applyOAuth(o, req); err != nil {
			return nil, err
		}
		return o.json(), nil
	})
}

func (s *Sandbox) deleteOAuthProvider(w http.ResponseWriter, r *http.Request) error {
	return s.writeAuth(w, r, "", http.StatusOK, nil, func(in *integration) (any, error) {
		o, err := oauthProviderFor(r, in)
		if err != nil {
			return nil, err
		}
		in.settings.oauth = slices.DeleteFunc(in.settings.oauth, func(p *oauthProvider) bool { return p == o })
		return nil, nil
	})
}
