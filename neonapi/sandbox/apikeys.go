package sandbox

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// apiKey is a key made with createApiKey. Only its SHA-256 is kept: the
// key itself is answered once.
type apiKey struct {
	id        int64
	name      string
	hash      [sha256.Size]byte
	createdAt time.Time
	lastUsed  time.Time
	lastAddr  string
	revoked   bool
}

// apiKeys are the keys made through the API.
type apiKeys struct {
	mu   sync.Mutex
	seq  int64
	keys []*apiKey
}

// accepts reports whether token is a live key made through the API, and
// records its use.
func (k *apiKeys) accepts(token string, r *http.Request) bool {
	h := sha256.Sum256([]byte(token))
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range k.keys {
		if !key.revoked && subtle.ConstantTimeCompare(h[:], key.hash[:]) == 1 {
			key.lastUsed = time.Now().UTC().Truncate(time.Second)
			key.lastAddr, _, _ = net.SplitHostPort(r.RemoteAddr)
			return true
		}
	}
	return false
}

// apiKeyJSON is ApiKeysListResponseItem and, with revoked, ApiKeyRevokeResponse.
type apiKeyJSON struct {
	ID               int64      `json:"id"`
	Name             string     `json:"name"`
	CreatedAt        time.Time  `json:"created_at"`
	CreatedBy        any        `json:"created_by"`
	LastUsedAt       *time.Time `json:"last_used_at,omitempty"`
	LastUsedFromAddr string     `json:"last_used_from_addr"`
	Revoked          *bool      `json:"revoked,omitempty"`
}

func (s *Sandbox) apiKeyToJSON(k *apiKey, creator any) apiKeyJSON {
	j := apiKeyJSON{ID: k.id, Name: k.name, CreatedAt: k.createdAt, CreatedBy: creator, LastUsedFromAddr: k.lastAddr}
	if !k.lastUsed.IsZero() {
		t := k.lastUsed
		j.LastUsedAt = &t
	}
	return j
}

// creatorJSON is ApiKeyCreatorData: the sandbox's account.
func (s *Sandbox) creatorJSON() any {
	return struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Image string `json:"image"`
	}{s.creatorID(), "Sandbox Owner", ""}
}

// creatorID is the user id keys name as their creator: the spec wants a
// uuid, the sandbox's account id is not one, so it is derived from it.
func (s *Sandbox) creatorID() string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("sandbox:"+s.accountID)).String()
}

// listAPIKeys is listApiKeys: the live keys made through the API, oldest
// first. Config.APIKey is not among them.
func (s *Sandbox) listAPIKeys(w http.ResponseWriter, _ *http.Request) error {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	list := []apiKeyJSON{}
	for _, k := range s.keys.keys {
		if !k.revoked {
			list = append(list, s.apiKeyToJSON(k, s.creatorJSON()))
		}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// createAPIKey is createApiKey. The key is answered once; the sandbox
// accepts it as a bearer token until it is revoked (when Config.APIKey is
// unset every non-empty token is accepted anyway).
func (s *Sandbox) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		KeyName *string `json:"key_name"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.KeyName == nil {
		return badRequest("key_name is required")
	}
	if err := checkLen(req.KeyName, "key_name", 1, 64); err != nil {
		return err
	}
	token := randomToken("napi_", 32)
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	s.keys.seq++
	k := &apiKey{id: 100000 + s.keys.seq, name: *req.KeyName, hash: sha256.Sum256([]byte(token)), createdAt: time.Now().UTC().Truncate(time.Second)}
	s.keys.keys = append(s.keys.keys, k)
	writeJSON(w, http.StatusOK, struct {
		ID        int64     `json:"id"`
		Key       string    `json:"key"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
		CreatedBy string    `json:"created_by"`
	}{k.id, token, k.name, k.createdAt, s.creatorID()})
	return nil
}

// revokeAPIKey is revokeApiKey; a revoked key is refused from then on.
func (s *Sandbox) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("key_id"), 10, 64)
	if err != nil {
		return badRequest("key_id must be an integer")
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	i := slices.IndexFunc(s.keys.keys, func(k *apiKey) bool { return k.id == id && !k.revoked })
	if i < 0 {
		return notFound("API key %d not found", id)
	}
	k := s.keys.keys[i]
	k.revoked = true
	j := s.apiKeyToJSON(k, s.creatorID())
	revoked := true
	j.Revoked = &revoked
	writeJSON(w, http.StatusOK, j)
	return nil
}

// accountOrgJSON is the spec's Organization.
type accountOrgJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Handle    string    `json:"handle"`
	Plan      string    `json:"plan"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ManagedBy string    `json:"managed_by"`
}

// currentUserOrganizations is getCurrentUserOrganizations: one
// organization per org_id the account's projects were created in, by id.
func (s *Sandbox) currentUserOrganizations(w http.ResponseWriter, _ *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	byID := map[string]*accountOrgJSON{}
	for _, p := range s.order {
		if p.deleted || p.orgID == "" || p.ownerID != s.accountID {
			continue
		}
		if o := byID[p.orgID]; o == nil || p.createdAt.Before(o.CreatedAt) {
			byID[p.orgID] = &accountOrgJSON{ID: p.orgID, Name: p.orgID, Handle: p.orgID, Plan: "free", CreatedAt: p.createdAt, UpdatedAt: p.createdAt, ManagedBy: "console"}
		}
	}
	list := []accountOrgJSON{}
	for _, o := range byID {
		list = append(list, *o)
	}
	slices.SortFunc(list, func(a, b accountOrgJSON) int { return cmp.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, struct {
		Organizations []accountOrgJSON `json:"organizations"`
	}{list})
	return nil
}
