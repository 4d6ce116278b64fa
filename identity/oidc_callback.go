package identity

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/neonauth-admin/dashboard/views"
)

// loginState is what Login left in its short-lived cookie for the callback.
type loginState struct {
	state, nonce, verifier, next string
}

// signInFailure is why a callback did not sign anyone in: the status, a
// reason for the log and a message for the person.
type signInFailure struct {
	status  int
	reason  string
	message string
}

// Callback finishes the flow: it checks state, exchanges the code with the
// PKCE verifier, verifies the ID token (signature, issuer, audience, expiry)
// and its nonce, then seals the identity into the session cookie.
func (s *Security) Callback(c echo.Context) error {
	a := s.oidc
	secure := s.isHTTPS(c)
	login, err := a.takeLoginState(c, secure)
	if err != nil {
		return err
	}
	if f := checkCallbackQuery(c.QueryParams(), login); f != nil {
		return s.signInFailed(c, f)
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(c.Request().Context(), a.client), outboundTimeout)
	defer cancel()
	subject, claims, f := a.exchange(ctx, c.QueryParam("code"), login)
	if f != nil {
		return s.signInFailed(c, f)
	}
	id, err := a.claims.identity(subject, claims)
	if u, ok := claims["preferred_username"].(string); ok && u != "" && err == nil {
		id.User = u
		err = id.check()
	}
	if err != nil {
		return s.signInFailed(c, &signInFailure{http.StatusUnauthorized, "id token names a malformed identity: " + err.Error(),
			"The identity provider named you with an email address, name or group the dashboard cannot accept (malformed or too long), so you were not signed in. Tell whoever runs the identity provider or this dashboard."})
	}
	id, err = a.startSession(c, secure, subject, id)
	if err != nil {
		return err
	}
	s.audit.record(c, auditEntry{action: "auth.login", actor: id, outcome: outcomeOK, status: http.StatusSeeOther})
	return c.Redirect(http.StatusSeeOther, cmp.Or(login.next, "/"))
}

// takeLoginState reads the login cookie and clears it: the login state is
// single-use whatever happens next.
func (a *oidcAuth) takeLoginState(c echo.Context, secure bool) (loginState, error) {
	r := c.Request()
	sess, _ := a.store.Get(r, cookieName(loginCookie, secure))
	var st loginState
	st.state, _ = sess.Values["state"].(string)
	st.nonce, _ = sess.Values["nonce"].(string)
	st.verifier, _ = sess.Values["verifier"].(string)
	st.next, _ = sess.Values["next"].(string)
	sess.Values = map[any]any{}
	sess.Options = cookieOptions(secure, -1)
	if err := sess.Save(r, c.Response()); err != nil {
		return loginState{}, fmt.Errorf("oidc: clear login state: %w", err)
	}
	return st, nil
}

// checkCallbackQuery refuses a provider error, a callback without this
// browser's login state, a foreign state and a missing code.
func checkCallbackQuery(q map[string][]string, login loginState) *signInFailure {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch {
	case get("error") != "":
		e := get("error")
		return &signInFailure{http.StatusUnauthorized, "provider returned error " + cut(e, 64),
			"The identity provider did not sign you in (" + cut(printable(e), 64) + ")."}
	case login.state == "" || login.verifier == "" || login.nonce == "":
		return &signInFailure{http.StatusBadRequest, "no login state (expired, or callback opened in another browser)",
			"This sign-in link has expired or was opened in a different browser. Start again."}
	case !equalConstantTime(get("state"), login.state):
		return &signInFailure{http.StatusBadRequest, "state mismatch", "This sign-in link does not belong to this browser. Start again."}
	case get("code") == "":
		return &signInFailure{http.StatusBadRequest, "no code", "The identity provider sent no authorization code. Start again."}
	}
	return nil
}

// exchange trades the code for tokens with the PKCE verifier, verifies the ID
// token and its nonce, and returns the subject and the claims, completed from
// the userinfo endpoint where the token leaves email or groups out.
func (a *oidcAuth) exchange(ctx context.Context, code string, login loginState) (string, map[string]any, *signInFailure) {
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(login.verifier))
	if err != nil {
		return "", nil, &signInFailure{http.StatusBadGateway, "code exchange: " + cut(err.Error(), 300),
			"The identity provider did not accept the sign-in. Start again, and tell whoever runs this dashboard if it keeps happening."}
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return "", nil, &signInFailure{http.StatusBadGateway, "token response had no id_token", "The identity provider sent no ID token."}
	}
	idt, err := a.verifier.Verify(ctx, rawID)
	if err != nil {
		return "", nil, &signInFailure{http.StatusUnauthorized, "id token rejected: " + cut(err.Error(), 300), "The identity provider's answer could not be verified."}
	}
	if !equalConstantTime(idt.Nonce, login.nonce) {
		return "", nil, &signInFailure{http.StatusUnauthorized, "nonce mismatch", "The identity provider's answer does not belong to this sign-in. Start again."}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return "", nil, &signInFailure{http.StatusUnauthorized, "access token hash mismatch", "The identity provider's answer could not be verified."}
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", nil, &signInFailure{http.StatusBadGateway, "id token claims unreadable", "The identity provider's answer could not be read."}
	}
	a.addUserInfo(ctx, tok, idt.Subject, claims)
	return idt.Subject, claims, nil
}

// startSession seals id into the session cookie, keeping only the groups the
// role lists name, and returns id as the session holds it, with its role.
func (a *oidcAuth) startSession(c echo.Context, secure bool, subject string, id Identity) (Identity, error) {
	var kept []string
	for _, g := range id.Groups {
		if a.roles.RelevantGroup(g) {
			kept = append(kept, g)
		}
	}
	value, err := json.Marshal(signedIn{
		Subject: subject, User: id.User, Email: id.Email, Groups: kept,
		Expires: a.now().Add(a.maxAge).Unix(),
	})
	if err != nil {
		return Identity{}, fmt.Errorf("oidc: encode session: %w", err)
	}
	r := c.Request()
	sess, _ := a.store.New(r, cookieName(authCookie, secure))
	sess.Values = map[any]any{"id": string(value)}
	sess.Options = cookieOptions(secure, int(a.maxAge/time.Second))
	if err := sess.Save(r, c.Response()); err != nil {
		return Identity{}, fmt.Errorf("oidc: save session: %w", err)
	}
	id.Groups = kept
	id.Role = a.roles.RoleFor(id.Email, id.Groups)
	return id, nil
}

// signInFailed logs why a callback failed and shows the person what to do.
func (s *Security) signInFailed(c echo.Context, f *signInFailure) error {
	s.logger.Warn("sign-in failed", "reason", f.reason, "peer", peerString(c.Request()), "request_id", requestID(c))
	return s.problem(c, f.status, views.AuthProblem{
		Title: "Sign-in did not complete", Message: f.message, Contact: s.cfg.Contact,
		ActionURL: LoginPath, ActionLabel: "Sign in again", TestID: "sign-in-failed",
	})
}
