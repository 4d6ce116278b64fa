package sandbox

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/chacha20poly1305"
)

// Better Auth's JWT plugin defaults: EdDSA over Ed25519 keys, tokens valid
// for 15 minutes, rotated keys still listed for a 30-day grace period.
const (
	jwtExpiresIn    = 15 * time.Minute
	jwksGracePeriod = 30 * 24 * time.Hour
)

// okpJWK is an Ed25519 key as jose's exportJWK writes it.
type okpJWK struct {
	Crv string `json:"crv"`
	D   string `json:"d,omitempty"`
	X   string `json:"x"`
	Kty string `json:"kty"`
}

// jwksRow is a row of neon_auth.jwks.
type jwksRow struct {
	id         string
	publicKey  string
	privateKey string
	createdAt  time.Time
	expiresAt  *time.Time
}

func (k jwksRow) live(now time.Time) bool { return k.expiresAt == nil || k.expiresAt.After(now) }

// encryptPrivateKey stores a private JWK as Better Auth does by default
// (symmetricEncrypt): XChaCha20-Poly1305 under SHA-256 of the secret, the
// 24-byte nonce first, in hex, as a JSON string.
func encryptPrivateKey(secret string, plain []byte) (string, error) {
	key := sha256.Sum256([]byte(secret))
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, plain, nil)
	out, err := json.Marshal(hex.EncodeToString(sealed))
	return string(out), err
}

// decryptPrivateKey undoes encryptPrivateKey.
func decryptPrivateKey(secret, stored string) ([]byte, error) {
	var h string
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return nil, errors.New("private key is not an encrypted JSON string")
	}
	sealed, err := hex.DecodeString(h)
	if err != nil {
		return nil, errors.New("private key is not hex")
	}
	key := sha256.Sum256([]byte(secret))
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("private key is too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
}

// keys reads the branch's key pairs, newest first.
func (ba *baInstance) keys(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]jwksRow, error) {
	rows, err := q.Query(ctx, `SELECT id::text, "publicKey", "privateKey", "createdAt", "expiresAt" FROM neon_auth.jwks ORDER BY "createdAt" DESC`)
	if err != nil {
		return nil, fmt.Errorf("read jwks: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (jwksRow, error) {
		var k jwksRow
		err := row.Scan(&k.id, &k.publicKey, &k.privateKey, &k.createdAt, &k.expiresAt)
		return k, err
	})
}

// signingKey returns the newest live key pair this branch's secret opens,
// making one when there is none, as the JWT plugin does on first use.
// Creation is serialised by an advisory lock so that concurrent first
// requests make one key, not several.
func (ba *baInstance) signingKey(ctx context.Context) (string, ed25519.PrivateKey, error) {
	var kid string
	var priv ed25519.PrivateKey
	err := pgx.BeginFunc(ctx, ba.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('neon_auth.jwks'))`); err != nil {
			return err
		}
		list, err := ba.keys(ctx, tx)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, k := range list {
			if !k.live(now) {
				continue
			}
			// A key another secret encrypted (the table outlived an
			// earlier integration) cannot sign; a new one is made.
			if p, err := ba.openKey(k); err == nil {
				kid, priv = k.id, p
				return nil
			}
		}
		kid, priv, err = ba.createKey(ctx, tx)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("signing key: %w", err)
	}
	return kid, priv, nil
}

func (ba *baInstance) openKey(k jwksRow) (ed25519.PrivateKey, error) {
	plain, err := decryptPrivateKey(ba.secret, k.privateKey)
	if err != nil {
		return nil, err
	}
	var j okpJWK
	if err := json.Unmarshal(plain, &j); err != nil || j.Kty != "OKP" || j.Crv != "Ed25519" {
		return nil, errors.New("private key is not an Ed25519 JWK")
	}
	seed, err := b64url.DecodeString(j.D)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("private key seed is malformed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// createKey makes an Ed25519 key pair and stores it, the private half
// encrypted.
func (ba *baInstance) createKey(ctx context.Context, tx pgx.Tx) (string, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	x := b64url.EncodeToString(pub)
	pubJSON, _ := json.Marshal(okpJWK{Crv: "Ed25519", X: x, Kty: "OKP"})
	privJSON, _ := json.Marshal(okpJWK{Crv: "Ed25519", D: b64url.EncodeToString(priv.Seed()), X: x, Kty: "OKP"})
	enc, err := encryptPrivateKey(ba.secret, privJSON)
	if err != nil {
		return "", nil, err
	}
	id := uuid.NewString()
	_, err = tx.Exec(ctx, `INSERT INTO neon_auth.jwks (id, "publicKey", "privateKey", "createdAt") VALUES ($1, $2, $3, now())`, id, string(pubJSON), enc)
	if err != nil {
		return "", nil, fmt.Errorf("store a key pair: %w", err)
	}
	return id, priv, nil
}

// issueJWT is the JWT plugin's token for a user: the user's fields as the
// payload, sub the user's id, issuer and audience the base URL's origin,
// signed with EdDSA and the key's id as kid.
func (ba *baInstance) issueJWT(ctx context.Context, u *baUser) (string, error) {
	kid, priv, err := ba.signingKey(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now()
	claims := u.json()
	claims["iat"] = now.Unix()
	claims["sub"] = u.ID
	claims["exp"] = now.Add(jwtExpiresIn).Unix()
	claims["iss"] = ba.origin
	claims["aud"] = ba.origin
	head, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64url.EncodeToString(head) + "." + b64url.EncodeToString(payload)
	return signing + "." + b64url.EncodeToString(ed25519.Sign(priv, []byte(signing))), nil
}

// baToken is GET /token: a JWT for the session's user.
func (s *Sandbox) baToken(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	_, u, err := ba.requireSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	token, err := ba.issueJWT(r.Context(), u)
	if err != nil {
		return err
	}
	baJSON(w, http.StatusOK, map[string]string{"token": token})
	return nil
}

// baJWKS is GET /jwks (and the integration's jwks_url): the public halves of
// the branch's keys (one made on first use), with kid the row's id; keys expired
// longer than the grace period ago are left out.
func (s *Sandbox) baJWKS(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	// The key the next token is signed with is listed, made now if need be.
	if _, _, err := ba.signingKey(r.Context()); err != nil {
		return err
	}
	list, err := ba.keys(r.Context(), ba.pool)
	if err != nil {
		return err
	}
	now := time.Now()
	keys := []map[string]any{}
	for _, k := range list {
		if k.expiresAt != nil && k.expiresAt.Add(jwksGracePeriod).Before(now) {
			continue
		}
		// A row whose public half is no Ed25519 key (a seed's stand-in)
		// is left out: one bad key would make a verifier reject the set.
		var pub okpJWK
		if json.Unmarshal([]byte(k.publicKey), &pub) != nil || pub.Kty != "OKP" || pub.Crv != "Ed25519" {
			continue
		}
		if x, err := b64url.DecodeString(pub.X); err != nil || len(x) != ed25519.PublicKeySize {
			continue
		}
		jwk := map[string]any{"alg": "EdDSA", "crv": pub.Crv, "kty": pub.Kty, "x": pub.X, "kid": k.id}
		keys = append(keys, jwk)
	}
	baJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}
