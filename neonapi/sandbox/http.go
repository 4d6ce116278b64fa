package sandbox

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// apiPrefix is where the Neon API v2 lives, as on console.neon.tech.
const apiPrefix = "/api/v2"

// maxBody bounds request bodies; Neon's are a few hundred bytes.
const maxBody = 1 << 20

// apiError is an error answered in Neon's GeneralError shape.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

// Error codes of the GeneralError bodies.
const (
	codeBadRequest   = "BAD_REQUEST"
	codeUnauthorized = "UNAUTHORIZED"
	codeNotFound     = "NOT_FOUND"
	codeConflict     = "CONFLICT"
	codeLocked       = "LOCKED"
	codeRateLimited  = "TOO_MANY_REQUESTS"
	codeUnavailable  = "SERVICE_UNAVAILABLE"
	codeInternal     = "INTERNAL_ERROR"
)

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, codeBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, codeNotFound, fmt.Sprintf(format, args...)}
}

func locked(format string, args ...any) error {
	return &apiError{http.StatusLocked, codeLocked, fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &apiError{http.StatusConflict, codeConflict, fmt.Sprintf(format, args...)}
}

// errorBody is Neon's GeneralError.
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

type requestIDKey struct{}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// writeJSON answers v as JSON, encoding it first so that a failure never sends
// half a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"code":"INTERNAL_ERROR","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeJSON(w, status, errorBody{Code: code, Message: message, RequestID: requestID(r)})
}

// apiFunc is an API handler; a returned *apiError is answered as is, any other
// error as a 500 with a log line.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Sandbox) api(f apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		if errors.As(err, &ae) {
			writeError(w, r, ae.status, ae.code, ae.message)
			return
		}
		if r.Context().Err() != nil {
			return // the client is gone
		}
		s.log.Error("sandbox request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestID(r), "err", err)
		writeError(w, r, http.StatusInternalServerError, codeInternal, "internal error")
	}
}

// routes lists every endpoint in one place.
func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, f apiFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+apiPrefix+path, s.api(f))
	}
	handle("GET /auth", s.getAuthDetails)
	handle("GET /users/me", s.getCurrentUser)
	handle("GET /projects", s.listProjects)
	handle("POST /projects", s.createProjectHTTP)
	handle("GET /projects/shared", s.listSharedProjects)
	handle("GET /projects/{project_id}", s.getProject)
	handle("GET /projects/{project_id}/operations", s.listOperations)
	handle("GET /projects/{project_id}/branches", s.listBranches)
	handle("POST /projects/{project_id}/branches", s.createBranchHTTP)
	handle("GET /projects/{project_id}/branches/{branch_id}", s.getBranch)
	handle("GET /projects/{project_id}/branches/{branch_id}/endpoints", s.listEndpoints)
	handle("GET /projects/{project_id}/branches/{branch_id}/databases", s.listDatabases)
	handle("POST /projects/{project_id}/branches/{branch_id}/databases", s.createDatabase)
	handle("GET /projects/{project_id}/branches/{branch_id}/databases/{database_name}", s.getDatabase)
	handle("GET /projects/{project_id}/branches/{branch_id}/roles", s.listRoles)
	handle("POST /projects/{project_id}/branches/{branch_id}/roles", s.createRole)
	handle("GET /projects/{project_id}/connection_uri", s.getConnectionURI)
	s.coreRoutes(handle)

	handle("POST /projects/auth/create", s.createIntegration)
	handle("GET /projects/{project_id}/auth/integrations", s.listIntegrations)
	handle("DELETE /projects/{project_id}/auth/integration/{auth_provider}", s.deleteIntegration)
	handle("POST /projects/auth/user", s.createUser)
	handle("DELETE /projects/{project_id}/auth/users/{auth_user_id}", s.deleteUser)
	handle("POST /projects/auth/transfer_ownership", s.transferOwnership)
	handle("POST /projects/auth/keys", s.createSDKKeys)

	handle("GET /projects/{project_id}/branches/{branch_id}/auth", s.getBranchAuth)
	handle("POST /projects/{project_id}/branches/{branch_id}/auth", s.enableBranchAuth)
	handle("DELETE /projects/{project_id}/branches/{branch_id}/auth", s.disableBranchAuth)
	handle("POST /projects/{project_id}/branches/{branch_id}/auth/users", s.createBranchUser)
	handle("DELETE /projects/{project_id}/branches/{branch_id}/auth/users/{auth_user_id}", s.deleteBranchUser)
	handle("PUT /projects/{project_id}/branches/{branch_id}/auth/users/{auth_user_id}/role", s.updateUserRole)
	s.branchAuthRoutes(handle)

	mux.Handle("POST /_sandbox/faults", s.api(s.postFaults))
	mux.Handle("GET /_sandbox/faults", s.api(s.getFaults))
	mux.Handle("DELETE /_sandbox/faults", s.api(s.deleteFaults))
	mux.Handle("POST /_sandbox/sync", s.api(s.postSync))
	mux.Handle("GET /_sandbox/sync", s.api(s.getSync))
	mux.Handle("GET /_sandbox/emails", s.api(s.getEmails))
	mux.Handle("DELETE /_sandbox/emails", s.api(s.deleteEmails))
	mux.Handle("GET /_sandbox/requests", s.api(s.getRequests))
	mux.Handle("DELETE /_sandbox/requests", s.api(s.deleteRequests))
	mux.HandleFunc("GET /_sandbox/transfer/confirm", s.confirmTransfer)
	mux.HandleFunc("GET /_sandbox/jwks/{id}/.well-known/jwks.json", s.jwks)
	s.betterAuthRoutes(mux)

	// Anything else answers a GeneralError rather than the mux's plain text.
	fallback := func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "/" && p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method "+r.Method+" is not allowed here")
			return
		}
		writeError(w, r, http.StatusNotFound, codeNotFound, "no such endpoint: "+r.URL.Path)
	}
	mux.HandleFunc("/", fallback)
	s.mux = mux
	return s.middleware(mux)
}

// statusWriter records the status for the request log. Unwrap lets
// http.ResponseController reach the connection for the "drop" fault.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware sets the request id, logs, injects faults, checks the bearer
// token and applies the per-key rate limit before the routes run.
func (s *Sandbox) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 200 || !utf8.ValidString(id) || strings.ContainsAny(id, "\r\n") {
			id = uuid.NewString()
		}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rw.Header().Set("X-Request-ID", id)
		// Neon answers its request id in this header too.
		rw.Header().Set("X-Neon-Ret-Request-Id", id)
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			// The bearer token and bodies stay out of the log on purpose.
			s.log.Info("sandbox request", "method", r.Method, "path", r.URL.Path, "status", w.status,
				"duration", time.Since(start).Round(time.Microsecond), "request_id", id)
		}()

		isAPI := r.URL.Path == apiPrefix || strings.HasPrefix(r.URL.Path, apiPrefix+"/")
		var after *Fault // a fault that acts once the request is served
		if isAPI {
			if f, ok := s.takeFault(r); ok {
				if f.Kind.afterServing() {
					after = &f
				} else if s.applyFault(w, r, f) {
					return
				}
			}
			if msg := s.checkToken(r, false); msg != "" {
				writeError(w, r, http.StatusUnauthorized, codeUnauthorized, msg)
				return
			}
			if s.rateLimit(w, r) {
				return
			}
		} else if strings.HasPrefix(r.URL.Path, "/_sandbox/faults") || strings.HasPrefix(r.URL.Path, "/_sandbox/sync") || strings.HasPrefix(r.URL.Path, "/_sandbox/emails") || strings.HasPrefix(r.URL.Path, "/_sandbox/requests") {
			if msg := s.checkToken(r, true); msg != "" {
				writeError(w, r, http.StatusUnauthorized, codeUnauthorized, msg)
				return
			}
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if after != nil {
			s.serveThenFault(w, r, *after, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkToken returns why the request is not authorised, or "". Control
// endpoints (control=true) need a token only when Config.APIKey is set.
func (s *Sandbox) checkToken(r *http.Request, control bool) string {
	if control && s.cfg.APIKey == "" {
		return ""
	}
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if h == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "authentication required: send an API key as 'Authorization: Bearer <key>'"
	}
	if s.cfg.APIKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.APIKey)) != 1 && !s.keys.accepts(token, r) {
		return "invalid API key"
	}
	return ""
}

// decodeBody reads a JSON object into v. An empty body is an error when
// required, otherwise it leaves v as is.
func decodeBody(r *http.Request, v any, required bool) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "request body is larger than 1 MiB"}
		}
		return badRequest("could not read the request body")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return badRequest("request body is required")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return badRequest("request body must be a JSON object")
		case errors.As(err, &typeErr):
			return badRequest("%s must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		default:
			return badRequest("request body is not valid JSON")
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body must hold a single JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	default:
		return "number"
	}
}

// pathID returns a path id, checked against the spec's pattern.
func pathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !idPattern.MatchString(v) {
		return "", badRequest("%s must match ^[a-z0-9-]{1,60}$", name)
	}
	return v, nil
}

// origin is the scheme and host the client used, for URLs that point back at
// the sandbox.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// hijackAndClose drops the connection without an answer.
func hijackAndClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 and other writers cannot be hijacked; aborting the handler
		// resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
