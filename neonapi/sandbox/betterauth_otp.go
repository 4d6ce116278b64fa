package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The email OTP plugin's defaults: 6 digits, valid 5 minutes, 3 tries.
const (
	otpLength    = 6
	otpExpiresIn = 5 * time.Minute
	otpAttempts  = 3
)

// The email OTP plugin's errors.
var (
	baOTPExpired       = &baError{http.StatusBadRequest, "OTP_EXPIRED", "OTP expired"}
	baInvalidOTP       = &baError{http.StatusBadRequest, "INVALID_OTP", "Invalid OTP"}
	baTooManyAttempts  = &baError{http.StatusForbidden, "TOO_MANY_ATTEMPTS", "Too many attempts"}
	baOTPUserNotFound  = &baError{http.StatusBadRequest, "USER_NOT_FOUND", "User not found"}
	baOTPTypeUnhandled = &baError{http.StatusBadRequest, "VALIDATION_ERROR", `[body.type] Invalid option: expected "email-verification"`}
)

// otpIdentifier is the plugin's verification row identifier.
func otpIdentifier(email string) string { return "email-verification-otp-" + strings.ToLower(email) }

// issueOTP replaces the email's verification code with a new one, stored as
// the plugin stores it by default: "<code>:<attempts>" in plain text.
func (ba *baInstance) issueOTP(ctx context.Context, email string) (string, error) {
	var b strings.Builder
	for range otpLength {
		n, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b.WriteByte(byte('0' + n.Int64()))
	}
	code := b.String()
	id := otpIdentifier(email)
	err := pgx.BeginFunc(ctx, ba.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM neon_auth.verification WHERE identifier = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO neon_auth.verification (id, identifier, value, "expiresAt") VALUES ($1, $2, $3, $4)`,
			uuid.NewString(), id, code+":0", time.Now().Add(otpExpiresIn))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store a verification code: %w", err)
	}
	return code, nil
}

// checkOTP spends the email's code: a wrong one counts an attempt, and after
// three the code is dead.
func (ba *baInstance) checkOTP(ctx context.Context, email, code string) error {
	id := otpIdentifier(email)
	var verdict error
	err := pgx.BeginFunc(ctx, ba.pool, func(tx pgx.Tx) error {
		var value string
		var expires time.Time
		err := tx.QueryRow(ctx, `SELECT value, "expiresAt" FROM neon_auth.verification WHERE identifier = $1 ORDER BY "createdAt" DESC LIMIT 1 FOR UPDATE`, id).Scan(&value, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			verdict = baInvalidOTP
			return nil
		}
		if err != nil {
			return err
		}
		if expires.Before(time.Now()) {
			verdict = baOTPExpired
			return nil
		}
		i := strings.LastIndexByte(value, ':')
		stored, attempts := value, 0
		if i >= 0 {
			stored = value[:i]
			attempts, _ = strconv.Atoi(value[i+1:])
		}
		if attempts >= otpAttempts {
			verdict = baTooManyAttempts
			return nil
		}
		if subtle.ConstantTimeCompare([]byte(stored), []byte(code)) != 1 {
			verdict = baInvalidOTP
			_, err := tx.Exec(ctx, `UPDATE neon_auth.verification SET value = $2, "updatedAt" = now() WHERE identifier = $1`, id, stored+":"+strconv.Itoa(attempts+1))
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM neon_auth.verification WHERE identifier = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("check a verification code: %w", err)
	}
	return verdict
}

// baVerifyEmailOTP is the email OTP plugin's POST /email-otp/verify-email:
// the right code verifies the email and, with autoSignInAfterVerification,
// signs the user in.
func (s *Sandbox) baVerifyEmailOTP(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
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
	code, err := baString(body, "otp", true)
	if err != nil {
		return err
	}
	email = strings.ToLower(email)
	if !validBAEmail(email) {
		return baInvalidEmail
	}
	if err := ba.checkOTP(r.Context(), email, code); err != nil {
		return err
	}
	u, _, err := ba.credentialUser(r.Context(), email)
	if err != nil {
		return err
	}
	if u == nil {
		return baOTPUserNotFound
	}
	if err := ba.pool.QueryRow(r.Context(), `UPDATE neon_auth."user" SET "emailVerified" = true, "updatedAt" = now() WHERE id = $1 RETURNING "updatedAt"`, u.ID).Scan(&u.UpdatedAt); err != nil {
		return fmt.Errorf("verify the email: %w", err)
	}
	u.EmailVerified = true
	var token any
	if ba.emailPassword.AutoSignInAfterVerification {
		sess, err := ba.createSession(r.Context(), r, u.ID, false)
		if err != nil {
			return err
		}
		ba.setSessionCookie(w, sess.Token, false)
		token = sess.Token
	}
	baJSON(w, http.StatusOK, map[string]any{"status": true, "token": token, "user": u.json()})
	return nil
}

// baSendVerificationOTP is POST /email-otp/send-verification-otp for type
// "email-verification": a new code to an unverified user, and the same
// answer whoever the email belongs to.
func (s *Sandbox) baSendVerificationOTP(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
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
	if typ, _ := body["type"].(string); typ != "email-verification" {
		return baOTPTypeUnhandled
	}
	u, _, err := ba.credentialUser(r.Context(), strings.ToLower(email))
	if err != nil {
		return err
	}
	if u != nil && !u.EmailVerified {
		otpBA := *ba
		otpBA.emailPassword.EmailVerificationMethod = "otp"
		if err := s.sendVerification(r.Context(), &otpBA, u, ""); err != nil {
			return err
		}
	}
	baJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
