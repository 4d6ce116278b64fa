package neonapi

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinels for errors.Is. An *APIError matches the one its status code falls
// under; callers branch on these, never on message text.
var (
	ErrBadRequest   = errors.New("neonapi: bad request")         // 400, 422
	ErrUnauthorized = errors.New("neonapi: unauthorized")        // 401, 403
	ErrNotFound     = errors.New("neonapi: not found")           // 404
	ErrConflict     = errors.New("neonapi: conflict")            // 409
	ErrLocked       = errors.New("neonapi: locked")              // 423
	ErrRateLimited  = errors.New("neonapi: rate limited")        // 429, or the local limiter
	ErrUnavailable  = errors.New("neonapi: service unavailable") // 5xx, or Neon unreachable
)

// ErrInvalidResponse marks a successful status whose body could not be decoded.
var ErrInvalidResponse = errors.New("neonapi: invalid response body")

// ErrInvalidArgument marks a call rejected before any request was sent, such as
// an empty project id that would otherwise address a different endpoint.
var ErrInvalidArgument = errors.New("neonapi: invalid argument")

// ErrNoAnswer matches a *RequestError whose request went out whole but whose
// answer never came: the connection dropped, or no answer arrived in time.
// Neon may have acted on the request.
var ErrNoAnswer = errors.New("neonapi: sent, but no answer")

// OutcomeUnknown reports whether err leaves open whether a write took
// effect: it reached Neon, but no usable answer came back (no answer at all,
// or one that could not be decoded or lacked what the caller needs). That is
// neither a success nor a failure. Neon's own refusals, and requests that
// never left (a connection that could not be made, the local rate limiter,
// an invalid argument), are known failures; a read (GET, HEAD, OPTIONS)
// changes nothing, so its failures are never unknown outcomes.
func OutcomeUnknown(err error) bool {
	var reqErr *RequestError
	if errors.As(err, &reqErr) && idempotent(reqErr.Method) {
		return false
	}
	return errors.Is(err, ErrInvalidResponse) || errors.Is(err, ErrNoAnswer)
}

// maxErrorBody bounds how much of an error response is read: Neon's errors are
// tiny, and a proxy's error page must not be buffered whole.
const maxErrorBody = 64 << 10

// maxSnippet bounds the part of a non-JSON body quoted in an error, and Neon's
// error code.
const maxSnippet = 160

// APIError is a non-2xx answer from Neon, parsed from its GeneralError body.
type APIError struct {
	StatusCode int
	// Code is Neon's machine-readable error code; often empty.
	Code string
	// Message is Neon's message or, for a body that is not Neon JSON (a proxy's
	// HTML page), a short sanitised excerpt of it.
	Message string
	// RequestID is Neon's request_id, or else the X-Request-ID the client sent.
	RequestID string
	// Operation is the operationId of the failed call.
	Operation string
	// RetryAfter is the server's Retry-After hint, zero when absent.
	RetryAfter time.Duration
}

// Error describes the failure without any credentials: the key is never part of
// a request's URL, and messages are scrubbed of it when parsed.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("neonapi: ")
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	b.WriteString(statusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != "" || e.RequestID != "" {
		b.WriteString(" (")
		if e.Code != "" {
			b.WriteString("code ")
			b.WriteString(e.Code)
			if e.RequestID != "" {
				b.WriteString(", ")
			}
		}
		if e.RequestID != "" {
			b.WriteString("request id ")
			b.WriteString(e.RequestID)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Is matches the sentinel for e's status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrLocked:
		return e.StatusCode == http.StatusLocked
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// RequestError reports a call that produced no usable answer: the request could
// not be sent, no response arrived in time, or a successful response could not be
// decoded. Err is the cause (context.DeadlineExceeded, a network error,
// ErrInvalidResponse, ...).
type RequestError struct {
	Operation string
	Method    string
	// Path is the URL path below the base URL; it never holds credentials.
	Path      string
	RequestID string
	// Sent is true once the request went out whole (or an answer came):
	// Neon may then have acted on it.
	Sent bool
	Err  error
}

// Error names the operation, the request and its id, then the cause; the URL
// path and cause never hold the key.
func (e *RequestError) Error() string {
	return "neonapi: " + e.Operation + ": " + e.Method + " " + e.Path +
		" (request id " + e.RequestID + "): " + e.Err.Error()
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *RequestError) Unwrap() error { return e.Err }

// Is lets callers treat "Neon could not be reached or did not answer in time"
// like a 5xx. A call the caller cancelled, one held back by the local rate
// limiter, or one with an undecodable body is not Neon being unavailable.
// ErrNoAnswer matches a request sent whole whose answer never came.
func (e *RequestError) Is(target error) bool {
	switch target {
	case ErrNoAnswer:
		return e.Sent && !errors.Is(e.Err, ErrInvalidResponse) && !errors.Is(e.Err, ErrInvalidArgument) &&
			!errors.Is(e.Err, ErrRateLimited)
	case ErrUnavailable:
	default:
		return false
	}
	return !errors.Is(e.Err, context.Canceled) &&
		!errors.Is(e.Err, ErrRateLimited) &&
		!errors.Is(e.Err, ErrInvalidResponse) &&
		!errors.Is(e.Err, ErrInvalidArgument)
}

// newAPIError reads at most maxErrorBody bytes of resp's body and turns them into
// an *APIError. The secrets (the API key, and any credential the request body
// carried) are removed from any text taken from the body, in case a proxy echoes
// the request back or Neon quotes a rejected value; they are removed before the
// text is shortened, so that a cut cannot leave part of one behind.
func newAPIError(resp *http.Response, op, sentID string, secrets ...string) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{
		StatusCode: resp.StatusCode,
		Operation:  op,
		RequestID:  sentID,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	scrub := func(s string) string {
		for _, secret := range secrets {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, redacted)
			}
		}
		return s
	}
	var general struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(body, &general); err == nil && (general.Message != "" || general.Code != "") {
		e.Code = sanitize(scrub(general.Code), maxSnippet)
		e.Message = sanitize(scrub(general.Message), 4*maxSnippet)
		if id := sanitize(scrub(general.RequestID), maxRequestIDLen); id != "" {
			e.RequestID = id
		}
	} else {
		e.Message = sanitize(scrub(plainText(body)), maxSnippet)
	}
	return e
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return "status " + strconv.Itoa(code)
}

// plainText turns an arbitrary body into text: markup is stripped so an HTML
// error page reads as its title and message, not as tags.
func plainText(body []byte) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if strings.Contains(s, "<") {
		s = stripTags(s)
		s = html.UnescapeString(s)
	}
	return s
}

// stripTags drops markup and the contents of script and style elements.
func stripTags(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i:]
		lower := strings.ToLower(s[:min(len(s), 8)])
		for _, elem := range []string{"script", "style"} {
			if strings.HasPrefix(lower, "<"+elem) {
				if end := strings.Index(strings.ToLower(s), "</"+elem); end >= 0 {
					s = s[end:]
				} else {
					s = ""
				}
				break
			}
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		s = s[j+1:]
	}
	return b.String()
}

// sanitize collapses whitespace, drops control and other non-printable runes,
// and truncates to at most limit bytes, marking the cut with an ellipsis.
func sanitize(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(r) > limit {
			return strings.TrimRight(b.String(), " ") + "…"
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseRetryAfter accepts both forms RFC 9110 allows: delay seconds and an
// HTTP-date. Anything else, or a date in the past, yields 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
