package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// maxJWKSBody bounds a key set response; real ones are a few KB.
const maxJWKSBody = 1 << 20

// errRefreshLimited answers a token naming an unknown key between refreshes.
var errRefreshLimited = errors.New("unknown signing key; the key set was fetched too recently to fetch it again (AUTH_JWT_JWKS_MIN_REFRESH)")

// keySet is the access proxy's public keys (oidc.KeySet), fetched from its
// JWKS URL and cached. A token naming a key id not in the cache is how key
// rotation shows up, so it triggers a refresh; but anyone can send tokens
// with made-up key ids, so refreshes happen at most once per minRefresh,
// concurrent ones share one fetch, and in between such tokens fail at once.
type keySet struct {
	url        string
	client     *http.Client
	algs       []jose.SignatureAlgorithm
	minRefresh time.Duration
	now        func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	keys  []jose.JSONWebKey
	// fetchedAt is the last fetch attempt, successful or not; zero before
	// the first.
	fetchedAt time.Time
}

func newKeySet(cfg JWTAuthConfig, client *http.Client, now func() time.Time) *keySet {
	k := &keySet{url: cfg.JWKSURL, client: client, minRefresh: cfg.JWKSMinRefresh, now: now}
	for _, a := range cfg.Algorithms {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	return k
}

// VerifySignature implements oidc.KeySet: it returns the payload of a token
// signed by one of the proxy's keys.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	cached := k.keys
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, kid, cached); ok {
		return payload, nil
	}
	if kid != "" && slices.ContainsFunc(cached, func(key jose.JSONWebKey) bool { return key.KeyID == kid }) {
		// A known key that does not verify: a forgery, not a rotation.
		return nil, errors.New("signature does not match the key it names")
	}
	keys, err := k.refresh(ctx)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	return nil, errors.New("no key in the key set verifies the signature")
}

// verifyWith tries the keys with the token's key id (all keys when it names
// none).
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// recent reports whether the last fetch attempt is younger than minRefresh.
// The caller holds mu.
func (k *keySet) recent() bool {
	return !k.fetchedAt.IsZero() && k.now().Sub(k.fetchedAt) < k.minRefresh
}

// refresh fetches the key set unless that happened less than minRefresh
// ago. Callers arriving during a fetch share it.
func (k *keySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	limited := k.recent()
	k.mu.Unlock()
	if limited {
		return nil, errRefreshLimited
	}
	v, err, _ := k.group.Do("jwks", func() (any, error) {
		k.mu.Lock()
		if k.recent() {
			// A fetch finished between the check above and this one.
			keys := k.keys
			k.mu.Unlock()
			return keys, nil
		}
		k.mu.Unlock()
		// Detached from the request: one impatient client must not cancel
		// the fetch every other caller is waiting for.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outboundTimeout)
		defer cancel()
		keys, err := k.fetch(fctx)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.fetchedAt = k.now()
		if err != nil {
			return nil, err
		}
		k.keys = keys
		return keys, nil
	})
	if err != nil {
		return nil, err
	}
	keys, _ := v.([]jose.JSONWebKey)
	return keys, nil
}

// fetch reads the key set. Keys of types go-jose does not know are skipped
// rather than failing the whole set, as the JWK spec asks.
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: fetch: status %d", resp.StatusCode)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBody)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("jwks: decode: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(r, &key) == nil && key.Valid() && key.IsPublic() {
			keys = append(keys, key)
		}
	}
	return keys, nil
}
