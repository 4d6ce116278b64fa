package neonapi

import (
	"context"
	"net/http"
)

// AuthDetails describes the key in use (AuthDetailsResponse).
type AuthDetails struct {
	AccountID  string `json:"account_id"`
	AuthMethod string `json:"auth_method"`
	AuthData   string `json:"auth_data,omitempty"`
}

// GetAuthDetails describes the API key in use (operationId getAuthDetails).
func (c *Client) GetAuthDetails(ctx context.Context) (*AuthDetails, error) {
	var out AuthDetails
	if err := c.do(ctx, call{op: "getAuthDetails", method: http.MethodGet, path: "/auth", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// CurrentUser is the Neon account behind the API key (CurrentUserInfoResponse),
// without its billing details.
type CurrentUser struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	LastName string `json:"last_name"`
	Image    string `json:"image"`
	// Login is deprecated in the spec; Email names the account.
	Login               string        `json:"login"`
	Plan                string        `json:"plan"`
	ProjectsLimit       int64         `json:"projects_limit"`
	BranchesLimit       int64         `json:"branches_limit"`
	ActiveSecondsLimit  int64         `json:"active_seconds_limit"`
	ComputeSecondsLimit int64         `json:"compute_seconds_limit,omitempty"`
	MaxAutoscalingLimit float64       `json:"max_autoscaling_limit"`
	AuthAccounts        []AuthAccount `json:"auth_accounts"`
}

// AuthAccount is one identity the Neon account signs in with
// (CurrentUserAuthAccount).
type AuthAccount struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Image    string `json:"image"`
	Provider string `json:"provider"`
}

// GetCurrentUser describes the Neon account behind the API key (operationId
// getCurrentUserInfo).
func (c *Client) GetCurrentUser(ctx context.Context) (*CurrentUser, error) {
	var out CurrentUser
	if err := c.do(ctx, call{op: "getCurrentUserInfo", method: http.MethodGet, path: "/users/me", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
