package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// betterAuthPrefix is where each branch's Better Auth server lives: the
// base_url of a branch integration is
// <origin>/_sandbox/neon-auth/<branch_id>/<database>/auth, and Better Auth's
// routes follow it, as on Neon, where the base URL already holds Better
// Auth's basePath.
const betterAuthPrefix = "/_sandbox/neon-auth/{branch_id}/{database}/auth"

// betterAuthRoutes serves Better Auth's email-and-password, session, JWT and
// JWKS routes on every branch's base URL.
func (s *Sandbox) betterAuthRoutes(mux *http.ServeMux) {
	handle := func(method, path string, f betterAuthFunc) {
		mux.Handle(method+" "+betterAuthPrefix+path, s.betterAuth(f))
	}
	handle("POST", "/sign-up/email", s.baSignUp)
	handle("POST", "/sign-in/email", s.baSignIn)
	handle("GET", "/verify-email", s.baVerifyEmail)
	handle("POST", "/send-verification-email", s.baSendVerificationEmail)
	handle("POST", "/email-otp/verify-email", s.baVerifyEmailOTP)
	handle("POST", "/email-otp/send-verification-otp", s.baSendVerificationOTP)
	handle("GET", "/get-session", s.baGetSession)
	handle("GET", "/list-sessions", s.baListSessions)
	handle("POST", "/revoke-session", s.baRevokeSession)
	handle("POST", "/revoke-sessions", s.baRevokeSessions)
	handle("POST", "/revoke-other-sessions", s.baRevokeOtherSessions)
	handle("POST", "/sign-out", s.baSignOut)
	handle("GET", "/token", s.baToken)
	handle("GET", "/jwks", s.baJWKS)
	handle("GET", "/.well-known/jwks.json", s.baJWKS)
	handle("GET", "/ok", func(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
		baJSON(w, http.StatusOK, map[string]bool{"ok": true})
		return nil
	})
	// A browser app on a trusted origin calls the base URL across origins.
	mux.Handle("OPTIONS "+betterAuthPrefix+"/{rest...}", s.betterAuth(s.baPreflight))
	// Anything else under a base URL answers as Better Auth's router does.
	mux.HandleFunc(betterAuthPrefix+"/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		baJSON(w, http.StatusNotFound, baErrorBody{Code: "NOT_FOUND", Message: "Not Found"})
	})
}

// baInstance is one branch's Better Auth server as a request sees it: a copy
// of what it needs from the integration, taken under the sandbox's lock, and
// the pool of the branch database that holds its neon_auth tables.
type baInstance struct {
	in       *integration
	branchID string
	baseURL  string
	// origin is the base URL's scheme and host: always trusted, and the
	// issuer and audience of its JWTs.
	origin string
	// secret signs session cookies, verification tokens and encrypts the
	// JWKS private keys, as BETTER_AUTH_SECRET does.
	secret string

	appName        string
	allowLocalhost bool
	domains        []string
	emailPassword  emailAndPasswordJSON
	emailServer    emailServer

	pool *pgxpool.Pool
}

// betterAuthFunc serves one Better Auth route of a branch.
type betterAuthFunc func(w http.ResponseWriter, r *http.Request, ba *baInstance) error

// baError is an error Better Auth answers as {"message","code"}.
type baError struct {
	status  int
	code    string
	message string
}

func (e *baError) Error() string { return e.message }

// baErrorBody is the body of Better Auth's APIError.
type baErrorBody struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

// Better Auth's errors, with its codes and messages (BASE_ERROR_CODES and the
// admin plugin's).
var (
	baInvalidEmail          = &baError{http.StatusBadRequest, "INVALID_EMAIL", "Invalid email"}
	baPasswordTooShort      = &baError{http.StatusBadRequest, "PASSWORD_TOO_SHORT", "Password too short"}
	baPasswordTooLong       = &baError{http.StatusBadRequest, "PASSWORD_TOO_LONG", "Password too long"}
	baInvalidCredentials    = &baError{http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"}
	baEmailNotVerified      = &baError{http.StatusForbidden, "EMAIL_NOT_VERIFIED", "Email not verified"}
	baUserExists            = &baError{http.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."}
	baSignUpDisabled        = &baError{http.StatusBadRequest, "EMAIL_PASSWORD_SIGN_UP_DISABLED", "Email and password sign up is not enabled"}
	baEmailPasswordDisabled = &baError{http.StatusBadRequest, "EMAIL_PASSWORD_DISABLED", "Email and password is not enabled"}
	baInvalidOrigin         = &baError{http.StatusForbidden, "INVALID_ORIGIN", "Invalid origin"}
	baMissingOrigin         = &baError{http.StatusForbidden, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin"}
	baInvalidCallbackURL    = &baError{http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL"}
	baCrossSiteNavigation   = &baError{http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "Cross-site navigation login blocked. This request appears to be a CSRF attack."}
	baUnauthorized          = &baError{http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized"}
	baSessionNotFresh       = &baError{http.StatusForbidden, "SESSION_NOT_FRESH", "Session is not fresh"}
	baInvalidToken          = &baError{http.StatusUnauthorized, "INVALID_TOKEN", "Invalid token"}
	baTokenExpired          = &baError{http.StatusUnauthorized, "TOKEN_EXPIRED", "Token expired"}
	baUserNotFound          = &baError{http.StatusUnauthorized, "USER_NOT_FOUND", "User not found"}
	baEmailMismatch         = &baError{http.StatusBadRequest, "EMAIL_MISMATCH", "Email mismatch"}
	baEmailAlreadyVerified  = &baError{http.StatusBadRequest, "EMAIL_ALREADY_VERIFIED", "Email is already verified"}
	// baBanned carries the admin plugin's default bannedUserMessage.
	baBanned = &baError{http.StatusForbidden, "BANNED_USER", "You have been banned from this application. Please contact support if you believe this is an error."}
)

// baValidation is better-call's answer to a body that fails its schema.
func baValidation(message string) error {
	return &baError{http.StatusBadRequest, "VALIDATION_ERROR", message}
}

// betterAuth resolves the branch's Better Auth server and runs f; errors are
// answered in Better Auth's shape, never in Neon's.
func (s *Sandbox) betterAuth(f betterAuthFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ba, err := s.betterAuthInstance(r)
		if err == nil {
			ba.cors(w, r)
			err = f(w, r, ba)
		}
		if err == nil {
			return
		}
		var be *baError
		if errors.As(err, &be) {
			baJSON(w, be.status, baErrorBody{Message: be.message, Code: be.code})
			return
		}
		if r.Context().Err() != nil {
			return
		}
		// The error may quote SQL, never a password, token or secret: those
		// are only ever bound as parameters.
		s.log.Error("sandbox better auth request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestID(r), "err", err)
		baJSON(w, http.StatusInternalServerError, baErrorBody{Message: "Internal Server Error", Code: "INTERNAL_SERVER_ERROR"})
	})
}

// betterAuthInstance finds the Better Auth integration the base URL names.
// Branch ids are unique across the sandbox's projects.
func (s *Sandbox) betterAuthInstance(r *http.Request) (*baInstance, error) {
	branchID, dbName := r.PathValue("branch_id"), r.PathValue("database")
	notFound := &baError{http.StatusNotFound, "NOT_FOUND", "Not Found"}
	s.mu.RLock()
	var in *integration
	for _, p := range s.projects {
		if b := p.branchByID(branchID); b != nil {
			in = b.auth
			break
		}
	}
	if in == nil || !in.ready || in.provider != providerBetterAuth || in.db.name != dbName {
		s.mu.RUnlock()
		return nil, notFound
	}
	ba := &baInstance{
		in: in, branchID: branchID, baseURL: in.baseURL, secret: in.authSecret,
		appName: in.settings.name, allowLocalhost: in.settings.allowLocalhost,
		domains:       slices.Clone(in.settings.domains),
		emailPassword: in.settings.emailAndPassword, emailServer: in.settings.emailServer,
	}
	real := in.db.real
	s.mu.RUnlock()
	if u, err := url.Parse(ba.baseURL); err == nil {
		ba.origin = u.Scheme + "://" + u.Host
	}
	pool, err := s.pg.pool(r.Context(), real)
	if err != nil {
		return nil, err
	}
	ba.pool = pool
	return ba, nil
}

// baJSON answers v as JSON, as Better Auth's endpoints do.
func baJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"message":"Internal Server Error","code":"INTERNAL_SERVER_ERROR"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// baDecode reads a JSON or form body into fields, as Better Auth accepts both
// on its sign-up and sign-in routes. An empty body is an empty object.
func baDecode(r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, baValidation("could not read the request body")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]any{}
	if mt == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(data))
		if err != nil {
			return nil, baValidation("invalid form body")
		}
		for k := range vals {
			out[k] = vals.Get(k)
		}
		return out, nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &baError{http.StatusBadRequest, "BODY_MUST_BE_AN_OBJECT", "Body must be an object"}
	}
	return out, nil
}

// baString reads a string field; required fields missing or of another type
// fail as better-call's schema validation does.
func baString(body map[string]any, name string, required bool) (string, error) {
	v, ok := body[name]
	if !ok || v == nil {
		if required {
			return "", baValidation("[body." + name + "] Invalid input: expected string, received undefined")
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", baValidation("[body." + name + "] Invalid input: expected string")
	}
	return s, nil
}

// baTime is how Better Auth's JSON shows a date: JavaScript's toJSON.
func baTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// baTimePtr is baTime for a nullable column.
func baTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := baTime(*t)
	return &v
}

// clientIP is the address a session records: the first X-Forwarded-For hop
// when a proxy set one (Better Auth's default ipAddressHeaders), else the
// peer's address.
func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if ip := strings.TrimSpace(first); ip != "" {
			return ip
		}
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// cors lets a browser app on a trusted origin read the answers and send its
// cookies, as Neon's Better Auth servers do for the branch's trusted domains
// (and localhost while allowed); other origins get no CORS headers, so the
// browser keeps their scripts out.
func (ba *baInstance) cors(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if o == "" || !ba.trustedOrigin(originOf(o)) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", o)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Set("Access-Control-Expose-Headers", "set-auth-jwt")
}

// baPreflight answers a CORS preflight; cors has set the headers when the
// origin is trusted.
func (s *Sandbox) baPreflight(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
			w.Header().Set("Access-Control-Allow-Headers", h)
		}
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
