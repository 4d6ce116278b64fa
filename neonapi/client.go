// Package neonapi is a typed client for the parts of the Neon API v2 the
// dashboard uses: projects, branches, databases, roles and Neon Auth.
//
// Every method takes a context first, names the spec's operationId in its doc
// comment, and fails with an *APIError (Neon answered with an error) or a
// *RequestError (no usable answer: none came, or a success could not be
// decoded or lacks a member the dashboard relies on, an *IncompleteAnswerError;
// see answer.go); both match the package's sentinels through errors.Is, and
// OutcomeUnknown tells a write that may have been made from one that was not. Retries and client-side rate limiting happen in the HTTP transport,
// never twice for a request that may have created something. The credentials
// of the branch-level Neon Auth settings (OAuth client secrets, SMTP
// passwords) and those a new role or branch comes with are Secret values,
// which never print, log or encode; like the API key, they are scrubbed from
// any error text.
package neonapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client talks to the Neon API v2. It is safe for concurrent use; share one per
// API key so that all callers draw from the same rate budget.
type Client struct {
	baseURL   string
	key       *secretKey
	hc        *http.Client
	userAgent string
	observer  Observer
	cache     *readCache // nil without WithReadCache
	spend     *spendMeter
	perMinute int // the limiter's budget; 0 without one
	// shared is the budget shared with other clients (WithSharedBudget),
	// nil without one.
	shared *sharedLimiter
}

// secretKey keeps the key out of anything printed: it formats as a placeholder
// with every verb, and Client formats its fields itself.
type secretKey struct{ v string }

const redacted = "[REDACTED]"

func (*secretKey) String() string                { return redacted }
func (*secretKey) GoString() string              { return redacted }
func (*secretKey) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

// New returns a client that authenticates with apiKey. It fails on an empty or
// malformed key and on the first invalid option.
func New(apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, errors.New("neonapi: API key is empty")
	}
	if !validHeaderValue(apiKey) || strings.ContainsRune(apiKey, ' ') {
		return nil, errors.New("neonapi: API key contains characters that cannot be sent in a header")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("neonapi: %w", err)
		}
	}

	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		// The API never redirects; following one could only lead somewhere unexpected.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	base := hc.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Concurrent dashboard requests fan out to one host; keep their
		// connections instead of redialling TLS for each.
		t.MaxIdleConnsPerHost = 16
		base = t
	}
	var lim *limiter
	if !cfg.noLimit {
		lim = newLimiter(cfg.perMinute, cfg.burst)
		if cfg.shared != nil {
			lim.shared = newSharedLimiter(cfg.shared, cfg.sharedLog, cfg.observer)
		}
	}
	rt := newRetryTransport(base, cfg.retry, lim, cfg.observer)
	rt.spend = newSpendMeter()
	hc.Transport = rt

	c := &Client{
		baseURL:   cfg.baseURL,
		key:       &secretKey{v: apiKey},
		hc:        &hc,
		userAgent: cfg.userAgent,
		observer:  cfg.observer,
		spend:     rt.spend,
	}
	if lim != nil {
		c.perMinute = cfg.perMinute
		c.shared = lim.shared
	}
	if cfg.readCacheTTL > 0 {
		c.cache = newReadCache(cfg.readCacheTTL, cfg.freshness)
		c.cache.remote, c.cache.publish = cfg.publishWrite != nil, cfg.publishWrite
	}
	return c, nil
}

// String describes the client without its key.
func (c *Client) String() string {
	return "neonapi.Client{baseURL: " + strconv.Quote(c.baseURL) + ", key: " + redacted + "}"
}

// GoString is String, so %#v cannot reveal the key either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, closing the %+v and %x routes to the key.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

func defaultUserAgent() string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	return "neon-auth-dashboard/" + version
}

// call describes one API request.
type call struct {
	op     string // operationId
	method string
	path   string // below the base URL, segments already escaped
	query  url.Values
	body   any // JSON-encoded when non-nil
	out    any // decoded from a 2xx body when non-nil
	// secrets are revealed credentials inside body, scrubbed like the key from
	// any error text.
	secrets []string
	// required are top-level members of the answer this call needs beyond
	// what out's type requires (see checkAnswer).
	required []string
}

// do makes the call cl and decodes its answer into cl.out. It is the only
// place requests are made, so headers, ids, error shapes and the read cache
// (see readcache.go) are the same for every operation.
func (c *Client) do(ctx context.Context, cl call) error {
	if c.cache != nil {
		return c.cache.do(ctx, c, cl)
	}
	return c.send(ctx, cl, decodeInto(ctx, cl))
}

// answerFunc takes the body of a successful answer; its error is the call's.
// reqErr wraps a cause in the call's *RequestError.
type answerFunc func(body io.Reader, reqErr func(error) error) error

// decodeInto is the answerFunc that decodes the answer into cl.out, or checks
// the answer of an operation without a result.
func decodeInto(ctx context.Context, cl call) answerFunc {
	return func(body io.Reader, reqErr func(error) error) error {
		if cl.out == nil {
			return checkEmptyBody(ctx, body, reqErr)
		}
		return decodeAnswer(ctx, body, cl, reqErr)
	}
}

// send sends cl to Neon and hands a successful answer to answer. It is the
// only place requests are built, and every call through it is observed once.
func (c *Client) send(ctx context.Context, cl call, answer answerFunc) (err error) {
	start := time.Now()
	status := 0
	defer func() { c.observer.ObserveCall(cl.op, status, time.Since(start)) }()

	reqID := requestIDFor(ctx)
	// sent records whether the last attempt's request went out whole and
	// is still unanswered: from then on Neon may act on it, whatever becomes
	// of the answer. An attempt that was answered and then repeated by the
	// transport was one Neon did not act on (a 503 or 423), so an answer
	// clears it; the answer the call ends with sets it again below.
	var sent atomic.Bool
	reqErr := func(cause error) error {
		return &RequestError{Operation: cl.op, Method: cl.method, Path: cl.path, RequestID: reqID, Sent: sent.Load(), Err: cause}
	}

	u := c.baseURL + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		buf, err := json.Marshal(cl.body)
		if err != nil {
			return reqErr(fmt.Errorf("encoding request: %w", err))
		}
		body = bytes.NewReader(buf) // replayable: NewRequest sets GetBody
	}
	trace := &httptrace.ClientTrace{
		GetConn:              func(string) { sent.Store(false) }, // an attempt begins
		WroteRequest:         func(w httptrace.WroteRequestInfo) { sent.Store(w.Err == nil) },
		GotFirstResponseByte: func() { sent.Store(false) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(withOperation(ctx, cl.op), trace), cl.method, u, body)
	if err != nil {
		return reqErr(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key.v)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set(RequestIDHeader, reqID)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // its text repeats the full URL, which Path already gives
		}
		return reqErr(err)
	}
	defer discard(resp.Body)
	status = resp.StatusCode
	sent.Store(true) // an answer came, so the request arrived

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, cl.op, reqID, append([]string{c.key.v}, cl.secrets...)...)
	}
	return answer(resp.Body, reqErr)
}

// maxAnswer bounds a successful answer held in memory: Neon's largest, a
// page of 400 projects, is a few hundred kilobytes.
const maxAnswer = 32 << 20

// decodeAnswer decodes a successful answer into cl.out and checks that it
// carries what the call requires (see checkAnswer). Any failure is an
// ErrInvalidResponse, an incomplete answer an *IncompleteAnswerError too.
func decodeAnswer(ctx context.Context, body io.Reader, cl call, reqErr func(error) error) error {
	data, err := readAnswer(ctx, body, reqErr)
	if err != nil {
		return err
	}
	return decodeData(data, cl, reqErr)
}

// readAnswer reads a successful answer, up to maxAnswer bytes.
func readAnswer(ctx context.Context, body io.Reader, reqErr func(error) error) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxAnswer))
	if err != nil {
		if ctx.Err() != nil {
			return nil, reqErr(ctx.Err())
		}
		return nil, reqErr(fmt.Errorf("%w: reading response: %v", ErrInvalidResponse, err))
	}
	return data, nil
}

// decodeData decodes the successful answer data into cl.out and checks it as
// decodeAnswer says.
func decodeData(data []byte, cl call, reqErr func(error) error) error {
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(cl.out); err != nil {
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return reqErr(fmt.Errorf("%w: %v", ErrInvalidResponse, err))
		}
		return reqErr(fmt.Errorf("reading response: %w", err))
	}
	if e := checkAnswer(data, cl.out, cl.required); e != nil {
		return reqErr(e)
	}
	return nil
}

// maxIgnoredBody bounds how much of an answer the caller does not need is
// read to check it: operations without a result answer with nothing, or a
// small JSON object.
const maxIgnoredBody = 64 << 10

// checkEmptyBody reads the answer of an operation without a result. Neon
// sends no body, or JSON; anything else (a body cut short, a proxy's HTML
// page) means the answer cannot be trusted to say the change was made, so it
// is ErrInvalidResponse rather than success.
func checkEmptyBody(ctx context.Context, body io.Reader, reqErr func(error) error) error {
	data, err := io.ReadAll(io.LimitReader(body, maxIgnoredBody))
	if err != nil {
		if ctx.Err() != nil {
			return reqErr(ctx.Err())
		}
		return reqErr(fmt.Errorf("%w: reading response: %v", ErrInvalidResponse, err))
	}
	if len(bytes.TrimSpace(data)) == 0 || len(data) == maxIgnoredBody || json.Valid(data) {
		// A body longer than the bound is not judged on its first part.
		return nil
	}
	return reqErr(fmt.Errorf("%w: the answer is not JSON", ErrInvalidResponse))
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// require rejects empty identifiers before they turn "/projects/{id}" into
// "/projects/", which is a different endpoint.
func require(op string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("%w: %s: %s is required", ErrInvalidArgument, op, pairs[i])
		}
	}
	return nil
}
