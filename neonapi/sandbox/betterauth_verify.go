package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// verificationExpiresIn is Better Auth's default emailVerification.expiresIn.
const verificationExpiresIn = time.Hour

// verificationClaims is the payload of Better Auth's email verification
// token, an HS256 JWT signed with the secret.
type verificationClaims struct {
	Email  string `json:"email"`
	UserID string `json:"userId,omitempty"`
	IAT    int64  `json:"iat"`
	EXP    int64  `json:"exp"`
}

var b64url = base64.RawURLEncoding

// verificationToken is createEmailVerificationToken.
func verificationToken(secret, email, userID string, now time.Time) string {
	head := b64url.EncodeToString([]byte(`{"alg":"HS256"}`))
	payload, _ := json.Marshal(verificationClaims{Email: strings.ToLower(email), UserID: userID, IAT: now.Unix(), EXP: now.Add(verificationExpiresIn).Unix()})
	signing := head + "." + b64url.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + b64url.EncodeToString(mac.Sum(nil))
}

// parseVerificationToken checks an HS256 token as jose's jwtVerify does:
// a bad one is INVALID_TOKEN, an expired one TOKEN_EXPIRED.
func parseVerificationToken(secret, token string) (verificationClaims, *baError) {
	var c verificationClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, baInvalidToken
	}
	var head struct {
		Alg string `json:"alg"`
	}
	hb, err := b64url.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &head) != nil || head.Alg != "HS256" {
		return c, baInvalidToken
	}
	sig, err := b64url.DecodeString(parts[2])
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return c, baInvalidToken
	}
	pb, err := b64url.DecodeString(parts[1])
	if err != nil || json.Unmarshal(pb, &c) != nil || c.Email == "" {
		return c, baInvalidToken
	}
	if c.EXP != 0 && c.EXP <= time.Now().Unix() {
		return c, baTokenExpired
	}
	return c, nil
}

// sendVerification "sends" the verification email through the branch's email
// server: the sandbox records it, listed by GET /_sandbox/emails. With the
// "link" method it holds the link Better Auth mails,
// <base URL>/verify-email?token=...&callbackURL=...; with "otp" (Neon's
// default, the email OTP plugin) a 6-digit code for POST
// /email-otp/verify-email.
func (s *Sandbox) sendVerification(ctx context.Context, ba *baInstance, u *baUser, callbackURL string) error {
	var body string
	if ba.emailPassword.EmailVerificationMethod == "otp" {
		code, err := ba.issueOTP(ctx, u.Email)
		if err != nil {
			return err
		}
		body = "Your verification code for " + ba.appName + " is " + code + ".\n\nIt expires in 5 minutes."
	} else {
		if callbackURL == "" {
			callbackURL = "/"
		}
		link := ba.baseURL + "/verify-email?token=" + verificationToken(ba.secret, u.Email, u.ID, time.Now()) +
			"&callbackURL=" + url.QueryEscape(callbackURL)
		body = "Verify your email address for " + ba.appName + " by opening this link:\n\n" + link + "\n\nThe link expires in one hour."
	}
	srv := ba.emailServer
	msg := Email{
		ID: uuid.NewString(), ProjectID: ba.in.project.id, BranchID: ba.branchID,
		From: srv.senderEmail, FromName: srv.senderName, To: u.Email,
		Subject: "Verify your email address",
		Text:    "Hello " + u.Name + ",\n\n" + body,
		SentAt:  time.Now().UTC(),
	}
	if srv.shared {
		// Neon's shared server; the sandbox names no real sender for it.
		if msg.From == "" {
			msg.From = "auth@neonauth.sandbox.invalid"
		}
	} else {
		msg.SMTPHost, msg.SMTPPort, msg.SMTPUsername = srv.host, srv.port, srv.username
	}
	if msg.FromName == "" {
		msg.FromName = ba.appName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails = append(s.emails, msg)
	if n := len(s.emails); n > maxEmails {
		s.emails = slices.Delete(s.emails, 0, n-maxEmails)
	}
	return nil
}

// baVerifyEmail is GET /verify-email: the token's user is marked verified
// and, with autoSignInAfterVerification, signed in. With a callbackURL the
// answer redirects there (with ?error=CODE on failure).
func (s *Sandbox) baVerifyEmail(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	q := r.URL.Query()
	callbackURL := q.Get("callbackURL")
	if err := ba.checkCallbackURL(callbackURL); err != nil {
		return err
	}
	fail := func(e *baError) error {
		if callbackURL == "" {
			return e
		}
		sep := "?"
		if strings.Contains(callbackURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, callbackURL+sep+"error="+url.QueryEscape(e.code), http.StatusFound)
		return nil
	}
	if q.Get("token") == "" {
		return baValidation("[query.token] Invalid input: expected string, received undefined")
	}
	claims, bad := parseVerificationToken(ba.secret, q.Get("token"))
	if bad != nil {
		return fail(bad)
	}
	u, _, err := ba.credentialUser(r.Context(), claims.Email)
	if err != nil {
		return err
	}
	switch {
	case u == nil:
		return fail(baUserNotFound)
	case claims.UserID != "" && claims.UserID != u.ID:
		return fail(baInvalidToken)
	}
	if !u.EmailVerified {
		if _, err := ba.pool.Exec(r.Context(), `UPDATE neon_auth."user" SET "emailVerified" = true, "updatedAt" = now() WHERE id = $1`, u.ID); err != nil {
			return fmt.Errorf("verify the email: %w", err)
		}
		if ba.emailPassword.AutoSignInAfterVerification {
			if err := s.signInVerified(w, r, ba, u); err != nil {
				return err
			}
		}
	}
	if callbackURL != "" {
		http.Redirect(w, r, callbackURL, http.StatusFound)
		return nil
	}
	baJSON(w, http.StatusOK, map[string]any{"status": true, "user": nil})
	return nil
}

// signInVerified gives a newly verified user a session, unless the request
// already carries one of theirs.
func (s *Sandbox) signInVerified(w http.ResponseWriter, r *http.Request, ba *baInstance, u *baUser) error {
	cur, cu, err := ba.currentSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	if cur != nil && cu.Email == u.Email {
		return nil
	}
	sess, err := ba.createSession(r.Context(), r, u.ID, false)
	if err != nil {
		return err
	}
	ba.setSessionCookie(w, sess.Token, false)
	return nil
}

// baSendVerificationEmail is POST /send-verification-email. Without a
// session it answers the same, no sooner than half a second, whether or not
// the email belongs to an unverified user, as Better Auth does.
func (s *Sandbox) baSendVerificationEmail(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	start := time.Now()
	body, err := baDecode(r)
	if err != nil {
		return err
	}
	if err := ba.checkPost(r, body); err != nil {
		return err
	}
	email, err := baString(body, "email", true)
	if err != nil {
		return err
	}
	callbackURL, err := baString(body, "callbackURL", false)
	if err != nil {
		return err
	}
	sess, su, err := ba.currentSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	if sess != nil {
		switch {
		case !strings.EqualFold(su.Email, email):
			return baEmailMismatch
		case su.EmailVerified:
			return baEmailAlreadyVerified
		}
		if err := s.sendVerification(r.Context(), ba, su, callbackURL); err != nil {
			return err
		}
		baJSON(w, http.StatusOK, map[string]bool{"status": true})
		return nil
	}
	u, _, err := ba.credentialUser(r.Context(), strings.ToLower(email))
	if err != nil {
		return err
	}
	if u != nil && !u.EmailVerified {
		if err := s.sendVerification(r.Context(), ba, u, callbackURL); err != nil {
			return err
		}
	}
	select {
	case <-time.After(500*time.Millisecond - time.Since(start)):
	case <-r.Context().Done():
		return errors.New("client gone")
	}
	baJSON(w, http.StatusOK, map[string]bool{"status": true})
	return nil
}
