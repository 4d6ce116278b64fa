package neonapi

import (
	"context"
	"fmt"
	"net/http"
)

// OAuthProviderID names a social sign-in provider (NeonAuthOauthProviderId).
type OAuthProviderID string

// The OAuth providers the spec knows.
const (
	OAuthGoogle    OAuthProviderID = "google"
	OAuthGitHub    OAuthProviderID = "github"
	OAuthMicrosoft OAuthProviderID = "microsoft"
	OAuthVercel    OAuthProviderID = "vercel"
)

// Valid reports whether id is one of the providers the spec allows.
func (id OAuthProviderID) Valid() bool {
	switch id {
	case OAuthGoogle, OAuthGitHub, OAuthMicrosoft, OAuthVercel:
		return true
	}
	return false
}

// OAuthProviderType tells whose OAuth app signs users in
// (NeonAuthOauthProviderType): the branch owner's own ("standard") or Neon's
// shared development credentials ("shared").
type OAuthProviderType string

// OAuth provider types.
const (
	OAuthStandard OAuthProviderType = "standard"
	OAuthShared   OAuthProviderType = "shared"
)

// OAuthProvider is one configured social sign-in provider
// (NeonAuthOauthProvider). ClientSecret stays wrapped if Neon sends it back.
type OAuthProvider struct {
	ID           OAuthProviderID   `json:"id" neon:"required"`
	Type         OAuthProviderType `json:"type" neon:"required"`
	ClientID     string            `json:"client_id,omitempty"`
	ClientSecret Secret            `json:"client_secret,omitzero"`
}

// AddOAuthProviderRequest is the body of addBranchNeonAuthOauthProvider
// (NeonAuthAddOAuthProviderRequest). Without ClientID and ClientSecret the
// provider uses Neon's shared development credentials, where Neon offers them.
type AddOAuthProviderRequest struct {
	ID                OAuthProviderID `json:"id"`
	ClientID          string          `json:"client_id,omitempty"`
	ClientSecret      Secret          `json:"client_secret,omitzero"`
	MicrosoftTenantID string          `json:"microsoft_tenant_id,omitempty"`
}

// UpdateOAuthProviderRequest is the body of updateBranchNeonAuthOauthProvider
// (NeonAuthUpdateOAuthProviderRequest); empty fields are left unchanged.
type UpdateOAuthProviderRequest struct {
	ClientID          string `json:"client_id,omitempty"`
	ClientSecret      Secret `json:"client_secret,omitzero"`
	MicrosoftTenantID string `json:"microsoft_tenant_id,omitempty"`
}

// oauthProviderBody is both request bodies on the wire, with the secret
// revealed; it exists only while a request is built.
type oauthProviderBody struct {
	ID                OAuthProviderID `json:"id,omitempty"`
	ClientID          string          `json:"client_id,omitempty"`
	ClientSecret      string          `json:"client_secret,omitempty"`
	MicrosoftTenantID string          `json:"microsoft_tenant_id,omitempty"`
}

// ListOAuthProviders returns a branch's social sign-in providers (operationId
// listBranchNeonAuthOauthProviders).
func (c *Client) ListOAuthProviders(ctx context.Context, projectID, branchID string) ([]OAuthProvider, error) {
	var out struct {
		Providers []OAuthProvider `json:"providers" neon:"required"`
	}
	if err := c.branchAuth(ctx, "listBranchNeonAuthOauthProviders", http.MethodGet, projectID, branchID, "/oauth_providers", nil, &out); err != nil {
		return nil, err
	}
	return out.Providers, nil
}

// AddOAuthProvider configures a social sign-in provider on a branch
// (operationId addBranchNeonAuthOauthProvider).
func (c *Client) AddOAuthProvider(ctx context.Context, projectID, branchID string, req AddOAuthProviderRequest) (*OAuthProvider, error) {
	const op = "addBranchNeonAuthOauthProvider"
	if err := checkOAuthID(op, req.ID); err != nil {
		return nil, err
	}
	body := oauthProviderBody{ID: req.ID, ClientID: req.ClientID, ClientSecret: req.ClientSecret.Reveal(), MicrosoftTenantID: req.MicrosoftTenantID}
	var out OAuthProvider
	if err := c.branchAuth(ctx, op, http.MethodPost, projectID, branchID, "/oauth_providers", body, &out, body.ClientSecret); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateOAuthProvider changes the credentials of a configured provider
// (operationId updateBranchNeonAuthOauthProvider).
func (c *Client) UpdateOAuthProvider(ctx context.Context, projectID, branchID string, id OAuthProviderID, req UpdateOAuthProviderRequest) (*OAuthProvider, error) {
	const op = "updateBranchNeonAuthOauthProvider"
	if err := checkOAuthID(op, id); err != nil {
		return nil, err
	}
	body := oauthProviderBody{ClientID: req.ClientID, ClientSecret: req.ClientSecret.Reveal(), MicrosoftTenantID: req.MicrosoftTenantID}
	var out OAuthProvider
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/oauth_providers/"+seg(string(id)), body, &out, body.ClientSecret); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteOAuthProvider removes a social sign-in provider from a branch
// (operationId deleteBranchNeonAuthOauthProvider).
func (c *Client) DeleteOAuthProvider(ctx context.Context, projectID, branchID string, id OAuthProviderID) error {
	const op = "deleteBranchNeonAuthOauthProvider"
	if err := checkOAuthID(op, id); err != nil {
		return err
	}
	return c.branchAuth(ctx, op, http.MethodDelete, projectID, branchID, "/oauth_providers/"+seg(string(id)), nil, nil)
}

func checkOAuthID(op string, id OAuthProviderID) error {
	if !id.Valid() {
		return fmt.Errorf("%w: %s: OAuth provider %q is not one of google, github, microsoft, vercel", ErrInvalidArgument, op, id)
	}
	return nil
}
