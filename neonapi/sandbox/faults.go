package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is a failure the sandbox can inject into API answers.
type FaultKind string

// Fault kinds: Neon's answers to overload (429 with Retry-After), outages (503)
// and locked projects (423), a request that never answers, a dropped
// connection, and a 200 whose JSON is cut short. None of these serve the
// request.
//
// The "after" kinds serve it first, so a write is made, and then spoil the
// answer: a success answered with {} (empty) or with Body instead of its own
// (body), the connection dropped instead of answering (drop-after), or the
// answer held back for Hang or until the client gives up (hang-after).
// They are what leaves a client unsure whether its change was made.
const (
	FaultRateLimited FaultKind = "429"
	FaultUnavailable FaultKind = "503"
	FaultLocked      FaultKind = "423"
	FaultHang        FaultKind = "hang"
	FaultDrop        FaultKind = "drop"
	FaultMalformed   FaultKind = "malformed"
	FaultEmpty       FaultKind = "empty"
	FaultBody        FaultKind = "body"
	FaultDropAfter   FaultKind = "drop-after"
	FaultHangAfter   FaultKind = "hang-after"
)

// afterServing reports the kinds that serve the request before they act.
func (k FaultKind) afterServing() bool {
	switch k {
	case FaultEmpty, FaultBody, FaultDropAfter, FaultHangAfter:
		return true
	}
	return false
}

// Default parameters of injected faults.
const (
	DefaultRetryAfter = time.Second
	DefaultHang       = time.Minute
)

// Fault makes the next Count API requests whose path contains PathContains
// (every API request when empty), and whose method is Method when set, fail
// as Kind says. A hang holds the request
// until the client gives up, which leaves it unserved, or for Hang, after which
// it is served normally. A hang-after serves the request, then holds its
// answer the same way.
type Fault struct {
	Kind         FaultKind
	Count        int // 0 means 1
	PathContains string
	// Method, when set, limits the fault to requests with that method, so
	// that a write can be faulted on a path its page also reads.
	Method     string
	RetryAfter time.Duration // for 429; 0 means DefaultRetryAfter
	Hang       time.Duration // for hang and hang-after; 0 means DefaultHang
	Body       string        // for body: what a success answers instead
}

// Validate reports whether the fault can be injected.
func (f Fault) Validate() error {
	switch f.Kind {
	case FaultRateLimited, FaultUnavailable, FaultLocked, FaultHang, FaultDrop, FaultMalformed,
		FaultEmpty, FaultDropAfter, FaultHangAfter:
	case FaultBody:
		if f.Body == "" {
			return fmt.Errorf("a body fault needs the body to answer with")
		}
	default:
		return fmt.Errorf("unknown fault kind %q (want 429, 503, 423, hang, drop, malformed, empty, body, drop-after or hang-after)", f.Kind)
	}
	if f.Count < 0 || f.RetryAfter < 0 || f.Hang < 0 {
		return fmt.Errorf("fault count and durations must not be negative")
	}
	return nil
}

// ParseFault reads the command line's short form KIND[:COUNT[:PATH_CONTAINS]],
// e.g. "503:3" or "429:2:/auth/user".
func ParseFault(spec string) (Fault, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	count, path, _ := strings.Cut(rest, ":")
	f := Fault{Kind: FaultKind(kind), Count: 1, PathContains: path}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return Fault{}, fmt.Errorf("fault %q: count must be a positive integer", spec)
		}
		f.Count = n
	}
	if err := f.Validate(); err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	return f, nil
}

// faultTable is the list of armed faults, first armed first used.
type faultTable struct {
	mu    sync.Mutex
	armed []*Fault // Count is what remains
}

// InjectFault arms a fault, as POST /_sandbox/faults does. Invalid faults are
// ignored with a warning; check them with Fault.Validate.
func (s *Sandbox) InjectFault(f Fault) {
	if err := f.Validate(); err != nil {
		s.log.Warn("sandbox: fault ignored", "err", err)
		return
	}
	f.Count = max(f.Count, 1)
	if f.RetryAfter == 0 {
		f.RetryAfter = DefaultRetryAfter
	}
	if f.Hang == 0 {
		f.Hang = DefaultHang
	}
	s.faults.mu.Lock()
	s.faults.armed = append(s.faults.armed, &f)
	s.faults.mu.Unlock()
}

// ClearFaults disarms every fault, as DELETE /_sandbox/faults does.
func (s *Sandbox) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.armed = nil
	s.faults.mu.Unlock()
}

// Faults returns the armed faults with their remaining counts.
func (s *Sandbox) Faults() []Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]Fault, 0, len(s.faults.armed))
	for _, f := range s.faults.armed {
		out = append(out, *f)
	}
	return out
}

// takeFault uses up one count of the first fault matching the request.
func (s *Sandbox) takeFault(r *http.Request) (Fault, bool) {
	t := &s.faults
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.armed {
		if !strings.Contains(r.URL.Path, f.PathContains) || f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			t.armed = append(t.armed[:i], t.armed[i+1:]...)
		}
		return *f, true
	}
	return Fault{}, false
}

// applyFault answers the request with f, a fault that acts before the
// request is served, reporting whether it did; a hang that outlives its wait
// lets the request through.
func (s *Sandbox) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	s.log.Info("sandbox fault injected", "kind", string(f.Kind), "path", r.URL.Path, "request_id", requestID(r))
	switch f.Kind {
	case FaultRateLimited:
		secs := max(1, int((f.RetryAfter+time.Second-1)/time.Second))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, r, http.StatusTooManyRequests, codeRateLimited, "too many requests: rate limit exceeded")
	case FaultUnavailable:
		writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, "service temporarily unavailable")
	case FaultLocked:
		writeError(w, r, http.StatusLocked, codeLocked, "project already has running conflicting operations, scheduling of new ones is prohibited")
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data": [{"id": "trunc`))
	case FaultDrop:
		hijackAndClose(w)
	case FaultHang:
		if !bufferBody(r) {
			return true // the client went away while sending
		}
		t := time.NewTimer(f.Hang)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
	}
	return true
}

// bufferBody reads the request body into memory, so that the request can still
// be served after a hang. It also makes the hang end with the client: the
// server notices a closed connection, and cancels the request's context, only
// once the body has been read to its end. A body beyond maxBody is kept to
// maxBody+1 bytes, enough for the handler to refuse it as too large. It reports
// false when the body could not be read.
func bufferBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return true
}

// serveThenFault serves the request with next, so that what it asks for is
// done, and then answers as f, a fault acting after serving, says.
func (s *Sandbox) serveThenFault(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, r)
	s.log.Info("sandbox fault injected", "kind", string(f.Kind), "path", r.URL.Path, "status", rec.code(), "request_id", requestID(r))
	ok := rec.code() >= 200 && rec.code() <= 299
	switch {
	case f.Kind == FaultDropAfter:
		hijackAndClose(w)
		return
	case f.Kind == FaultHangAfter:
		t := time.NewTimer(f.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client gave up; the change stays made
		case <-s.ctx.Done():
			return
		}
	case f.Kind == FaultEmpty && ok:
		rec.body = *bytes.NewBufferString("{}")
	case f.Kind == FaultBody && ok:
		rec.body = *bytes.NewBufferString(f.Body)
	}
	rec.replay(w)
}

// recorder keeps an answer so that a fault can replace or hold it back.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

func (rec *recorder) code() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// replay sends the kept answer.
func (rec *recorder) replay(w http.ResponseWriter) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.code())
	_, _ = rec.body.WriteTo(w)
}
