package sandbox

import "net/http"

func (s *Sandbox) getAuthDetails(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, struct {
		AccountID  string `json:"account_id"`
		AuthMethod string `json:"auth_method"`
	}{s.accountID, "api_key_user"})
	return nil
}

// currentUserJSON is the spec's CurrentUserInfoResponse, without the optional
// billing account.
type currentUserJSON struct {
	ActiveSecondsLimit  int64             `json:"active_seconds_limit"`
	AuthAccounts        []authAccountJSON `json:"auth_accounts"`
	Email               string            `json:"email"`
	ID                  string            `json:"id"`
	Image               string            `json:"image"`
	Login               string            `json:"login"`
	Name                string            `json:"name"`
	LastName            string            `json:"last_name"`
	ProjectsLimit       int64             `json:"projects_limit"`
	BranchesLimit       int64             `json:"branches_limit"`
	MaxAutoscalingLimit float64           `json:"max_autoscaling_limit"`
	Plan                string            `json:"plan"`
}

// authAccountJSON is the spec's CurrentUserAuthAccount.
type authAccountJSON struct {
	Email    string `json:"email"`
	Image    string `json:"image"`
	Login    string `json:"login"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
}

// sandboxUserEmail is the address of the sandbox's account; .invalid keeps it
// from ever reaching anyone.
const sandboxUserEmail = "owner@sandbox.invalid"

// getCurrentUser is getCurrentUserInfo: the account the sandbox stands for,
// on a free plan's limits.
func (s *Sandbox) getCurrentUser(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, currentUserJSON{
		AuthAccounts: []authAccountJSON{{Email: sandboxUserEmail, Login: "sandbox", Name: "Sandbox Owner", Provider: "github"}},
		Email:        sandboxUserEmail, ID: s.accountID, Login: "sandbox", Name: "Sandbox", LastName: "Owner",
		ProjectsLimit: 100, BranchesLimit: 5000, MaxAutoscalingLimit: 2, Plan: "free_v3",
	})
	return nil
}
