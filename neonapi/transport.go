package neonapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// retryTransport is where the client queues for the rate limiter and repeats
// attempts that are safe to repeat, so the API methods stay single-shot.
//
// What is safe follows Neon's GeneralError contract: a 503 or 423 means the
// request was not acted on, so any method may be repeated; GET, HEAD and OPTIONS
// may also be repeated after a network error, a timeout, 429, 502 or 504. A POST,
// PUT, PATCH or DELETE that may have reached Neon is never sent twice, since a
// duplicate create is worse than an error; only a failure to connect at all is
// retried for them.
type retryTransport struct {
	base     http.RoundTripper
	policy   RetryPolicy
	limiter  *limiter // nil disables rate limiting
	spend    *spendMeter
	observer Observer
	// jitter returns a uniformly random duration in [0, n); n > 0.
	jitter func(n time.Duration) time.Duration
	// sleep pauses between attempts; tests record the pauses instead.
	sleep func(ctx context.Context, d time.Duration) error
}

func newRetryTransport(base http.RoundTripper, p RetryPolicy, l *limiter, o Observer) *retryTransport {
	return &retryTransport{base: base, policy: p, limiter: l, observer: o, jitter: rand.N[time.Duration], sleep: sleep}
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	op := operationFrom(ctx)
	hasBody := req.Body != nil && req.Body != http.NoBody
	replayable := !hasBody || req.GetBody != nil

	for attempt := 1; ; attempt++ {
		waited, err := t.limiter.wait(ctx)
		if waited > 0 {
			t.observer.ObserveRateLimitWait(waited)
		}
		if err != nil {
			if attempt == 1 && hasBody {
				req.Body.Close() // RoundTrip owns the body, even when failing early
			}
			return nil, err
		}
		t.spend.add()

		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if hasBody {
				if r.Body, err = req.GetBody(); err != nil {
					return nil, fmt.Errorf("rewinding request body: %w", err)
				}
			}
		}
		resp, err := t.attempt(ctx, r, t.attemptTimeout(ctx, req.Method, attempt))

		if attempt >= t.policy.MaxAttempts || ctx.Err() != nil || !replayable || !retryable(req.Method, resp, err) {
			return resp, err
		}
		delay := t.backoff(attempt)
		if resp != nil {
			if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
				if ra > t.policy.MaxDelay {
					return resp, nil // too long to hold the caller; let them see the hint
				}
				delay = ra
			}
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return resp, err // the retry could not finish in time; report this answer now
		}
		if resp != nil {
			discard(resp.Body)
		}
		t.observer.ObserveRetry(op)
		if err := t.sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// attemptTimeout is the time attempt number n of a method may take: the
// policy's AttemptTimeout, and for a request that may be repeated after a
// timeout, at most half of what remains of ctx's deadline while attempts are
// left. A single hung attempt then cannot spend the caller's whole budget: the
// retry still fits before the deadline. Zero means no bound of its own, as
// when the policy turns attempt timeouts off.
func (t *retryTransport) attemptTimeout(ctx context.Context, method string, n int) time.Duration {
	d := t.policy.AttemptTimeout
	deadline, ok := ctx.Deadline()
	if d <= 0 || !ok || n >= t.policy.MaxAttempts || !idempotent(method) {
		return d
	}
	return max(min(d, time.Until(deadline)/2), time.Millisecond)
}

// attempt sends r once, bounded by timeout when it is positive. The timeout
// stays armed while the body is read and is released when the body is closed.
func (t *retryTransport) attempt(ctx context.Context, r *http.Request, timeout time.Duration) (*http.Response, error) {
	if timeout <= 0 {
		return t.base.RoundTrip(r)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	resp, err := t.base.RoundTrip(r.WithContext(actx))
	if err != nil {
		if ctx.Err() == nil && actx.Err() != nil {
			err = &attemptTimeoutError{after: timeout, cause: err}
		}
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base
// transport through this wrapper.
func (t *retryTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// backoff returns the capped exponential pause before retry number attempt,
// with full jitter so that callers rejected together do not return together.
func (t *retryTransport) backoff(attempt int) time.Duration {
	ceiling := t.policy.MaxDelay
	if shift := attempt - 1; shift < 32 {
		if d := t.policy.BaseDelay << shift; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return t.jitter(ceiling)
}

// retryable reports whether a request with this method may be sent again after
// this outcome of an attempt.
func retryable(method string, resp *http.Response, err error) bool {
	idempotent := idempotent(method)
	if err != nil {
		return idempotent || neverSent(err)
	}
	switch resp.StatusCode {
	case http.StatusServiceUnavailable, http.StatusLocked:
		return true
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// idempotent reports methods that may be repeated after a failure that leaves
// unknown whether the request took effect.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// neverSent reports errors that happen before a single byte reaches the server:
// the connection could not be established.
func neverSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// discard drains a little of a body before closing it so the connection can be
// reused, without reading an arbitrarily large body that is not wanted.
func discard(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxErrorBody))
	body.Close()
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// attemptTimeoutError is one attempt running past RetryPolicy.AttemptTimeout
// while the caller's context was still live.
type attemptTimeoutError struct {
	after time.Duration
	cause error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("no response within the %s attempt timeout", e.after)
}

// Unwrap exposes context.DeadlineExceeded, so callers test for a timeout the
// same way whether their own deadline or the attempt's expired.
func (e *attemptTimeoutError) Unwrap() []error { return []error{context.DeadlineExceeded, e.cause} }

// Timeout marks the error as a timeout for net.Error-style checks.
func (e *attemptTimeoutError) Timeout() bool { return true }
