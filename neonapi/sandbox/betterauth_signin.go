package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Better Auth's password length bounds (minPasswordLength and
// maxPasswordLength), counted as JavaScript counts a string's length.
const (
	minPasswordLength = 8
	maxPasswordLength = 128
)

// zodEmail is zod's email check without its look-aheads, which RE2 lacks;
// validBAEmail adds them.
var zodEmail = regexp.MustCompile(`^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+\-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func validBAEmail(v string) bool {
	return zodEmail.MatchString(v) && !strings.HasPrefix(v, ".") && !strings.Contains(v, "..")
}

func jsLength(s string) int { return len(utf16.Encode([]rune(s))) }

// checkPasswordLength is assertPasswordNotTooShort and ...TooLong.
func checkPasswordLength(pw string, short bool) error {
	n := jsLength(pw)
	if short && n < minPasswordLength {
		return baPasswordTooShort
	}
	if n > maxPasswordLength {
		return baPasswordTooLong
	}
	return nil
}

// signInRequest is what sign-up and sign-in read of their bodies.
type signInRequest struct {
	name, email, password, image, callbackURL string
	dontRemember                              bool
}

func readSignIn(r *http.Request, ba *baInstance, signUp bool) (signInRequest, error) {
	body, err := baDecode(r)
	if err != nil {
		return signInRequest{}, err
	}
	if err := ba.checkFormCSRF(r); err != nil {
		return signInRequest{}, err
	}
	if err := ba.checkPost(r, body); err != nil {
		return signInRequest{}, err
	}
	var req signInRequest
	type field struct {
		name     string
		dst      *string
		required bool
	}
	fields := []field{{"email", &req.email, true}, {"password", &req.password, true}, {"callbackURL", &req.callbackURL, false}}
	if signUp {
		fields = append(fields, field{"name", &req.name, true}, field{"image", &req.image, false})
	}
	for _, f := range fields {
		if *f.dst, err = baString(body, f.name, f.required); err != nil {
			return req, err
		}
	}
	if v, ok := body["rememberMe"]; ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			return req, baValidation("[body.rememberMe] Invalid input: expected boolean")
		}
		req.dontRemember = !b
	}
	if signUp && req.password == "" {
		return req, baValidation("[body.password] Too small: expected string to have >=1 characters")
	}
	if !validBAEmail(req.email) {
		if signUp {
			return req, baValidation("[body.email] Invalid email address")
		}
		return req, baInvalidEmail
	}
	return req, nil
}

// baSignUp is POST /sign-up/email: a user and its credential account
// (providerId "credential", accountId the user's id, the password hashed as
// Better Auth hashes it) in one transaction, then a verification email when
// the branch asks for one, and a session unless verification is required.
func (s *Sandbox) baSignUp(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	if !ba.emailPassword.Enabled || ba.emailPassword.DisableSignUp {
		return baSignUpDisabled
	}
	req, err := readSignIn(r, ba, true)
	if err != nil {
		return err
	}
	if err := checkPasswordLength(req.password, true); err != nil {
		return err
	}
	email := strings.ToLower(req.email)
	// With verification required Better Auth answers a taken email as if
	// it were new, so that sign-up does not tell who has an account.
	generic := ba.emailPassword.RequireEmailVerification
	hash, err := HashPassword(req.password)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	role, banned := "user", false
	u := &baUser{ID: uuid.NewString(), Name: req.name, Email: email, CreatedAt: now, UpdatedAt: now, Role: &role, Banned: &banned}
	if req.image != "" {
		u.Image = &req.image
	}
	taken := s.reserveEmail(ba, email)
	if !taken {
		taken, err = ba.insertUser(r.Context(), u, hash)
		if err != nil {
			return err
		}
	}
	if taken {
		if generic {
			baJSON(w, http.StatusOK, map[string]any{"token": nil, "user": u.json()})
			return nil
		}
		return baUserExists
	}
	s.recordSignUp(ba, u)
	if ba.emailPassword.RequireEmailVerification || ba.emailPassword.SendVerificationEmailOnSignUp {
		if err := s.sendVerification(r.Context(), ba, u, req.callbackURL); err != nil {
			return err
		}
	}
	if ba.emailPassword.RequireEmailVerification {
		baJSON(w, http.StatusOK, map[string]any{"token": nil, "user": u.json()})
		return nil
	}
	sess, err := ba.createSession(r.Context(), r, u.ID, req.dontRemember)
	if err != nil {
		return err
	}
	ba.setSessionCookie(w, sess.Token, req.dontRemember)
	baJSON(w, http.StatusOK, map[string]any{"token": sess.Token, "user": u.json()})
	return nil
}

// reserveEmail reports whether the integration already knows the email,
// including users created through the API whose rows are still queued.
func (s *Sandbox) reserveEmail(ba *baInstance, email string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, taken := ba.in.emails[email]
	return taken
}

// recordSignUp tells the integration about a user that signed up, so that
// the API's user operations (delete, role, a duplicate create) know it.
func (s *Sandbox) recordSignUp(ba *baInstance, u *baUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ba.in.removed.Load() {
		return
	}
	ba.in.users[u.ID] = &authUser{id: u.ID, email: u.Email}
	ba.in.emails[u.Email] = u.ID
}

// insertUser writes the user and its credential account; taken reports an
// email already in the table.
func (ba *baInstance) insertUser(ctx context.Context, u *baUser, hash string) (taken bool, err error) {
	err = pgx.BeginFunc(ctx, ba.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt", role, banned)
			VALUES ($1, $2, $3, false, $4, $5, $5, $6, $7)`, u.ID, u.Name, u.Email, u.Image, u.CreatedAt, u.Role, u.Banned); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO neon_auth.account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
			VALUES ($1, $2::text, 'credential', $2::text::uuid, $3, $4, $4)`, uuid.NewString(), u.ID, hash, u.CreatedAt)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("sign up: %w", err)
	}
	return false, nil
}

// credentialUser finds a user by email with their credential account's
// password hash ("" when they have none).
func (ba *baInstance) credentialUser(ctx context.Context, email string) (*baUser, string, error) {
	var u baUser
	var hash *string
	err := ba.pool.QueryRow(ctx, `SELECT `+userCols+`, a.password FROM neon_auth."user" u
		LEFT JOIN neon_auth.account a ON a."userId" = u.id AND a."providerId" = 'credential' AND a."accountId" = u.id::text
		WHERE u.email = $1 ORDER BY a."createdAt" LIMIT 1`, email).Scan(append(u.dest(), &hash)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("find the user: %w", err)
	}
	return &u, deref(hash), nil
}

// baSignIn is POST /sign-in/email: the password checked against the
// credential account, then email verification when required, then the
// admin plugin's ban check as the session is made.
func (s *Sandbox) baSignIn(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	if !ba.emailPassword.Enabled {
		return baEmailPasswordDisabled
	}
	req, err := readSignIn(r, ba, false)
	if err != nil {
		return err
	}
	if err := checkPasswordLength(req.password, false); err != nil {
		return err
	}
	u, hash, err := ba.credentialUser(r.Context(), strings.ToLower(req.email))
	if err != nil {
		return err
	}
	if u == nil || hash == "" {
		// Hashing anyway keeps the answer's timing from telling who exists.
		_, _ = HashPassword(req.password)
		return baInvalidCredentials
	}
	ok, err := VerifyPassword(hash, req.password)
	if err != nil {
		// Better Auth fails with a 500 on a hash not in its format (one a
		// seed or an import wrote); the sandbox says no to the password.
		s.log.Warn("sandbox better auth: stored password hash is not in Better Auth's format", "user_id", u.ID, "request_id", requestID(r))
	}
	if !ok {
		return baInvalidCredentials
	}
	if ba.emailPassword.RequireEmailVerification && !u.EmailVerified {
		if ba.emailPassword.SendVerificationEmailOnSignIn {
			if err := s.sendVerification(r.Context(), ba, u, req.callbackURL); err != nil {
				return err
			}
		}
		return baEmailNotVerified
	}
	sess, err := ba.createSession(r.Context(), r, u.ID, req.dontRemember)
	if err != nil {
		return err
	}
	ba.setSessionCookie(w, sess.Token, req.dontRemember)
	out := map[string]any{"redirect": req.callbackURL != "", "token": sess.Token, "user": u.json()}
	if req.callbackURL != "" {
		w.Header().Set("Location", req.callbackURL)
		out["url"] = req.callbackURL
	}
	baJSON(w, http.StatusOK, out)
	return nil
}
