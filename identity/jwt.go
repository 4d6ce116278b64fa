package identity

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
)

// maxAssertionLen bounds the token header; real assertions are a few KB.
const maxAssertionLen = 16 << 10

// jwtAuth verifies the signed assertion an access proxy (Cloudflare Access,
// Google IAP, Pomerium) adds to every request it lets through. Unlike proxy
// mode it does not need to trust the network: the signature, issuer, audience
// and expiry say whether the proxy vouched for this request.
type jwtAuth struct {
	header   string
	verifier *oidc.IDTokenVerifier
	claims   claimNames
}

// newJWTAuth builds the verifier. Keys are fetched lazily from the JWKS URL,
// cached, and fetched again when a token names an unknown key id, which is
// how rotation shows up, at most once per JWKSMinRefresh.
func newJWTAuth(cfg JWTAuthConfig, client *http.Client, now func() time.Time) *jwtAuth {
	return &jwtAuth{
		header: cfg.Header,
		verifier: oidc.NewVerifier(cfg.Issuer, newKeySet(cfg, client, now), &oidc.Config{
			ClientID:             cfg.Audience,
			SupportedSigningAlgs: cfg.Algorithms,
			Now:                  now,
		}),
		claims: claimNames{email: cfg.EmailClaim, groups: cfg.GroupsClaim},
	}
}

func (a *jwtAuth) authenticate(c echo.Context) (Identity, *authFailure) {
	// Two assertions in one request mean two parties vouch for it, and
	// reading either would let the other one's choice decide who is asking.
	raw, err := single(c.Request().Header, a.header)
	if err != nil {
		return Identity{}, malformed("assertion header: "+err.Error(), "")
	}
	if raw == "" {
		return Identity{}, &authFailure{reason: "no " + a.header + " header"}
	}
	if len(raw) > maxAssertionLen {
		return Identity{}, &authFailure{reason: "assertion too large", warn: true}
	}
	tok, err := a.verifier.Verify(c.Request().Context(), raw)
	if err != nil {
		// go-oidc's messages name the failed check (expiry, audience, issuer,
		// signature) and never quote the token.
		return Identity{}, &authFailure{reason: cut("assertion rejected: "+err.Error(), 300), warn: true}
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, &authFailure{reason: "assertion claims unreadable", warn: true}
	}
	id, err := a.claims.identity(tok.Subject, claims)
	if err != nil {
		return Identity{}, malformed("assertion: "+err.Error(), "")
	}
	if id.User == "" {
		return Identity{}, &authFailure{reason: "assertion names nobody", warn: true}
	}
	return id, nil
}

// claimNames says which claims carry the email and groups.
type claimNames struct {
	email, groups string
}

// identity reads an Identity out of verified claims. An email the provider
// does not mark verified (emailVerified) is dropped, so it cannot match an
// email or domain grant. Claims of the wrong type, malformed or over-long are
// an error: the identity is refused, never cut down or guessed at.
func (n claimNames) identity(subject string, claims map[string]any) (Identity, error) {
	var email string
	switch v := claimAt(claims, n.email).(type) {
	case nil:
	case string:
		email = v
	default:
		return Identity{}, fmt.Errorf("claim %s is not a string", n.email)
	}
	if v, present := claims["email_verified"]; present && !emailVerified(v) {
		email = ""
	}
	var groups []string
	switch g := claimAt(claims, n.groups).(type) {
	case nil:
	case []any:
		for _, v := range g {
			s, ok := v.(string)
			if !ok {
				return Identity{}, fmt.Errorf("claim %s holds something other than strings", n.groups)
			}
			if s != "" {
				groups = append(groups, s)
			}
		}
	case string:
		groups = splitList(g)
	default:
		return Identity{}, fmt.Errorf("claim %s is neither a list nor a string", n.groups)
	}
	id := Identity{User: cmp.Or(subject, email), Email: email, Groups: groups}
	return id, id.check()
}

// emailVerified reads a present email_verified claim. Only the JSON boolean
// true and the string "true" (AWS Cognito sends the claim as a string) count
// as verified; every other value, "false" and null included, does not, so a
// claim of a type nobody expected can never verify an email. An absent claim
// is not read here: the access proxies of jwt mode vouch for the email they
// assert and send no such claim.
func emailVerified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// claimAt walks a dotted path ("custom.groups") into nested claim objects. A
// claim whose own name contains a dot is found first.
func claimAt(claims map[string]any, path string) any {
	if v, ok := claims[path]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// outboundClient is the client for JWKS, OIDC discovery and token requests:
// bounded, so a slow key server or provider cannot pile up requests.
func outboundClient(base *http.Client) *http.Client {
	if base != nil {
		return base
	}
	return &http.Client{Timeout: outboundTimeout}
}
