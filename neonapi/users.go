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
