package specvalidate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// maxBody bounds how much of a response is buffered for validation; Neon's
// largest answers in use (a page of projects) are far smaller.
const maxBody = 16 << 20

// Exchange is one request and its answer as the spec judged them.
type Exchange struct {
	// OperationID is the operation the request routed to; empty when the
	// request matched none.
	OperationID string
	Method      string
	Path        string
	// Status is the response status, 0 when no response arrived.
	Status int
	// RequestErrors lists each way the request breaks the spec, whether or
	// not the test meant it to; a test of error answers checks that its request
	// breaks the spec in the one way it intends.
	RequestErrors []string
	// Problems lists every way the exchange departs from the spec.
	Problems []string
}

func (e *Exchange) problemf(format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

// String names the exchange the way a report about it needs.
func (e Exchange) String() string {
	op := e.OperationID
	if op == "" {
		op = "no operation"
	}
	return fmt.Sprintf("%s %s (%s) -> %d", e.Method, e.Path, op, e.Status)
}

type expectInvalidKey struct{}

// ExpectInvalidRequest marks requests sent with the returned context as
// deliberately breaking the spec, for tests of how errors are answered. The
// transport then reports such a request if it turns out to conform, so a
// negative test cannot silently test the wrong thing.
func ExpectInvalidRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, expectInvalidKey{}, true)
}

func expectsInvalid(ctx context.Context) bool {
	v, _ := ctx.Value(expectInvalidKey{}).(bool)
	return v
}

// Transport is an http.RoundTripper that validates each request against the
// spec before sending it, and each response before handing it back, and keeps
// a log of the exchanges. Requests and responses pass through unchanged.
type Transport struct {
	spec *Spec
	base http.RoundTripper

	mu  sync.Mutex
	log []Exchange
}

// NewTransport wraps base (http.DefaultTransport when nil).
func NewTransport(spec *Spec, base http.RoundTripper) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{spec: spec, base: base}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("specvalidate: reading request body: %w", err)
		}
	}

	ex := Exchange{Method: req.Method, Path: req.URL.Path}
	in := t.checkRequest(&ex, req, body)

	out := req.Clone(ctx)
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		t.record(ex)
		return nil, err
	}
	ex.Status = resp.StatusCode
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		// A dropped connection is the server's failure to answer, not an
		// answer that breaks the spec; the caller sees the error.
		t.record(ex)
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if in != nil {
		t.checkResponse(&ex, in, resp, data)
	}
	t.record(ex)
	return resp, nil
}

// checkRequest routes req and validates it. It returns nil when no operation
// matched, since a response cannot then be judged either.
func (t *Transport) checkRequest(ex *Exchange, req *http.Request, body []byte) *openapi3filter.RequestValidationInput {
	ctx := req.Context()
	route, params, err := t.spec.router.FindRoute(req)
	if err != nil {
		ex.problemf("no operation in the spec matches %s %s: %v", req.Method, req.URL.Path, err)
		return nil
	}
	ex.OperationID = route.Operation.OperationID

	// The validator may read the body and fill in defaults: give it a copy.
	vreq := req.Clone(ctx)
	vreq.Body = http.NoBody
	if body != nil {
		vreq.Body = io.NopCloser(bytes.NewReader(body))
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: params,
		Route:      route,
		Options:    t.spec.opts,
	}
	err = openapi3filter.ValidateRequest(ctx, in)
	var multi openapi3.MultiError
	switch {
	case errors.As(err, &multi):
		for _, e := range multi {
			ex.RequestErrors = append(ex.RequestErrors, e.Error())
		}
	case err != nil:
		ex.RequestErrors = append(ex.RequestErrors, err.Error())
	}
	switch wantInvalid := expectsInvalid(ctx); {
	case wantInvalid && err == nil:
		ex.problemf("request conforms to the spec, but the test meant to send one that does not")
	case !wantInvalid && err != nil:
		ex.problemf("request: %v", err)
	}
	return in
}

// checkResponse validates the response against the operation, and checks what
// the schema alone leaves open: that a success status is one the operation
// documents (not one that only falls under `default`, which is GeneralError),
// and that an error carries the request_id the GeneralError description
// promises, equal to the X-Request-ID that was sent.
func (t *Transport) checkResponse(ex *Exchange, in *openapi3filter.RequestValidationInput, resp *http.Response, data []byte) {
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                t.spec.opts,
	}
	rin.SetBodyBytes(data)
	if err := openapi3filter.ValidateResponse(in.Request.Context(), rin); err != nil {
		ex.problemf("response %d: %v", resp.StatusCode, err)
	}

	responses := in.Route.Operation.Responses
	if resp.StatusCode < 400 && responses.Status(resp.StatusCode) == nil {
		var documented []string
		for code := range responses.Map() {
			if code != "default" {
				documented = append(documented, code)
			}
		}
		slices.Sort(documented)
		ex.problemf("response status %d is not documented for %s; the spec lists %v", resp.StatusCode, ex.OperationID, documented)
	}

	if resp.StatusCode >= 400 {
		var general struct {
			RequestID *string `json:"request_id"`
		}
		if err := json.Unmarshal(data, &general); err != nil {
			return // already reported by ValidateResponse
		}
		sent := in.Request.Header.Get("X-Request-ID")
		switch {
		case general.RequestID == nil || *general.RequestID == "":
			ex.problemf("error response %d has no request_id (GeneralError.request_id)", resp.StatusCode)
		case sent != "" && *general.RequestID != sent:
			ex.problemf("error response %d has request_id %q, but the request sent X-Request-ID %q", resp.StatusCode, *general.RequestID, sent)
		}
	}
}

func (t *Transport) record(ex Exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log = append(t.log, ex)
}

// Exchanges returns the exchanges so far, oldest first.
func (t *Transport) Exchanges() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.log)
}

// Len returns how many exchanges have been recorded; pass it to Since to see
// what a step of a test sent.
func (t *Transport) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.log)
}

// Since returns the exchanges recorded after the first n.
func (t *Transport) Since(n int) []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n > len(t.log) {
		return nil
	}
	return slices.Clone(t.log[n:])
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
