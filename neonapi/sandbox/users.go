package sandbox

import "net/http"

func (s *Sandbox) getAuthDetails(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, struct {
		AccountID  string `json:"account_id"`
		AuthMethod string `json:"auth_method"`
	}{s.accountID, "api_key_user"})
	return nil
}
