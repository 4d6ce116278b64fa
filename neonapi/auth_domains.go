package neonapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// TrustedDomain is a domain auth flows may redirect to
// (NeonAuthRedirectURIWhitelistDomain).
type TrustedDomain struct {
	Domain       string                `json:"domain" neon:"required"`
	AuthProvider authprovider.Provider `json:"auth_provider"`
}

// AddTrustedDomainRequest is the body of addBranchNeonAuthTrustedDomain
// (NeonAuthAddDomainToRedirectURIWhitelistRequest). Domain is an absolute URI
// such as "https://app.example.com".
type AddTrustedDomainRequest struct {
	Domain       string                `json:"domain"`
	AuthProvider authprovider.Provider `json:"auth_provider"`
}

// DeleteTrustedDomainsRequest names the domains deleteBranchNeonAuthTrustedDomain
// removes (NeonAuthDeleteDomainFromRedirectURIWhitelistRequest).
type DeleteTrustedDomainsRequest struct {
	AuthProvider authprovider.Provider
	Domains      []string
}

// ListTrustedDomains returns the domains a branch's auth flows may redirect to
// (operationId listBranchNeonAuthTrustedDomains).
func (c *Client) ListTrustedDomains(ctx context.Context, projectID, branchID string) ([]TrustedDomain, error) {
	var out struct {
		Domains []TrustedDomain `json:"domains" neon:"required"`
	}
	if err := c.branchAuth(ctx, "listBranchNeonAuthTrustedDomains", http.MethodGet, projectID, branchID, "/domains", nil, &out); err != nil {
		return nil, err
	}
	return out.Domains, nil
}

// AddTrustedDomain lets a branch's auth flows redirect to one more domain
// (operationId addBranchNeonAuthTrustedDomain).
func (c *Client) AddTrustedDomain(ctx context.Context, projectID, branchID string, req AddTrustedDomainRequest) error {
	const op = "addBranchNeonAuthTrustedDomain"
	if err := checkProviderArg(op, req.AuthProvider); err != nil {
		return err
	}
	if err := require(op, "domain", req.Domain); err != nil {
		return err
	}
	return c.branchAuth(ctx, op, http.MethodPost, projectID, branchID, "/domains", req, nil)
}

// DeleteTrustedDomains removes domains from a branch's trusted domains
// (operationId deleteBranchNeonAuthTrustedDomain).
func (c *Client) DeleteTrustedDomains(ctx context.Context, projectID, branchID string, req DeleteTrustedDomainsRequest) error {
	const op = "deleteBranchNeonAuthTrustedDomain"
	if err := checkProviderArg(op, req.AuthProvider); err != nil {
		return err
	}
	type item struct {
		Domain string `json:"domain"`
	}
	body := struct {
		AuthProvider authprovider.Provider `json:"auth_provider"`
		Domains      []item                `json:"domains"`
	}{req.AuthProvider, make([]item, 0, len(req.Domains))}
	for _, d := range req.Domains {
		if d == "" {
			return fmt.Errorf("%w: %s: empty domain", ErrInvalidArgument, op)
		}
		body.Domains = append(body.Domains, item{d})
	}
	return c.branchAuth(ctx, op, http.MethodDelete, projectID, branchID, "/domains", body, nil)
}

// allowLocalhost is NeonAuthAllowLocalhostResponse and
// UpdateNeonAuthAllowLocalhostRequest.
type allowLocalhost struct {
	AllowLocalhost bool `json:"allow_localhost" neon:"required"`
}

// GetAllowLocalhost reports whether a branch's auth flows accept localhost
// without it being a trusted domain (operationId getNeonAuthAllowLocalhost).
func (c *Client) GetAllowLocalhost(ctx context.Context, projectID, branchID string) (bool, error) {
	var out allowLocalhost
	err := c.branchAuth(ctx, "getNeonAuthAllowLocalhost", http.MethodGet, projectID, branchID, "/allow_localhost", nil, &out)
	return out.AllowLocalhost, err
}

// UpdateAllowLocalhost turns localhost access on or off and returns the new
// setting (operationId updateNeonAuthAllowLocalhost).
func (c *Client) UpdateAllowLocalhost(ctx context.Context, projectID, branchID string, allow bool) (bool, error) {
	var out allowLocalhost
	err := c.branchAuth(ctx, "updateNeonAuthAllowLocalhost", http.MethodPatch, projectID, branchID, "/allow_localhost", allowLocalhost{allow}, &out)
	return out.AllowLocalhost, err
}

// checkProviderArg rejects an auth provider the spec does not list.
func checkProviderArg(op string, p authprovider.Provider) error {
	if !validProvider(p) {
		return fmt.Errorf("%w: %s: auth provider %q is not one of mock, stack, better_auth", ErrInvalidArgument, op, p)
	}
	return nil
}
