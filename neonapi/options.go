package neonapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the Neon API v2 endpoint used unless WithBaseURL says otherwise.
const DefaultBaseURL = "https://console.neon.tech/api/v2"

// Neon's published budget: 700 requests a minute per account, with bursts of up
// to 40 requests a second. The client stays under it so that concurrent callers
// queue locally instead of collecting 429s.
const (
	DefaultRequestsPerMinute = 700
	DefaultBurst             = 40
)

// RetryPolicy bounds how the client retries requests that are safe to repeat.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt too: 1 disables retries.
	MaxAttempts int
	// BaseDelay is the backoff ceiling of the first retry; it doubles on each
	// further retry, and the actual pause is drawn uniformly below it (full jitter).
	BaseDelay time.Duration
	// MaxDelay caps every pause. A Retry-After longer than MaxDelay is not waited
	// for: the response is returned so the caller can report it.
	MaxDelay time.Duration
	// AttemptTimeout, when positive, bounds each attempt so a hung GET can be
	// retried; a hung POST, PUT, PATCH or DELETE fails instead, because it may
	// already have taken effect.
	AttemptTimeout time.Duration
}

// DefaultRetryPolicy returns the policy used unless WithRetryPolicy says
// otherwise: four attempts, backoff from 250ms capped at 10s, and 30s per attempt.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:    4,
		BaseDelay:      250 * time.Millisecond,
		MaxDelay:       10 * time.Second,
		AttemptTimeout: 30 * time.Second,
	}
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 1:
		return errors.New("retry policy: MaxAttempts must be at least 1")
	case p.BaseDelay <= 0:
		return errors.New("retry policy: BaseDelay must be positive")
	case p.MaxDelay < p.BaseDelay:
		return errors.New("retry policy: MaxDelay must not be below BaseDelay")
	case p.AttemptTimeout < 0:
		return errors.New("retry policy: AttemptTimeout must not be negative")
	}
	return nil
}

// Observer receives the client's metrics. Implementations must be safe for
// concurrent use and return quickly: they run on the request path.
type Observer interface {
	// ObserveCall reports one finished API call, retries included. Operation is
	// the spec's operationId; status is 0 when no response arrived.
	ObserveCall(operation string, status int, d time.Duration)
	// ObserveRetry reports that an attempt of operation is being repeated.
	ObserveRetry(operation string)
	// ObserveRateLimitWait reports time spent queued by the client-side limiter.
	ObserveRateLimitWait(d time.Duration)
}

type nopObserver struct{}

func (nopObserver) ObserveCall(string, int, time.Duration) {}
func (nopObserver) ObserveRetry(string)                    {}
func (nopObserver) ObserveRateLimitWait(time.Duration)     {}

// Option configures a Client; New reports the first invalid one.
type Option func(*config) error

type config struct {
	baseURL    string
	httpClient *http.Client
	userAgent  string
	retry      RetryPolicy
	perMinute  int
	burst      int
	noLimit    bool
	observer   Observer
	// readCacheTTL is how long the read cache keeps an answer; 0 for none.
	readCacheTTL time.Duration
	// freshness is the read cache's freshness window; 0 for none.
	freshness time.Duration
	// shared is the rate budget shared with other clients, and where its
	// outages are logged (WithSharedBudget); nil for none.
	shared    SharedBudget
	sharedLog *slog.Logger
	// publishWrite hears of each write, for other clients' read caches
	// (WithRemoteWrites); nil for none.
	publishWrite func(Write)
}

func defaultConfig() config {
	return config{
		baseURL:   DefaultBaseURL,
		userAgent: defaultUserAgent(),
		retry:     DefaultRetryPolicy(),
		perMinute: DefaultRequestsPerMinute,
		burst:     DefaultBurst,
		observer:  nopObserver{},
	}
}

// WithBaseURL points the client at another Neon API v2 root, such as the local
// sandbox ("http://127.0.0.1:8081/api/v2").
func WithBaseURL(raw string) Option {
	return func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil {
			// url.Error repeats the whole URL, credentials included.
			var urlErr *url.Error
			if errors.As(err, &urlErr) {
				err = urlErr.Err
			}
			return fmt.Errorf("base URL: %w", err)
		}
		switch {
		case u.User != nil:
			return errors.New("base URL: credentials belong in the API key, not the URL")
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("base URL %q: scheme must be http or https", raw)
		case u.Host == "":
			return fmt.Errorf("base URL %q: host is missing", raw)
		case u.RawQuery != "" || u.Fragment != "":
			return fmt.Errorf("base URL %q: must not carry a query or fragment", raw)
		}
		c.baseURL = strings.TrimRight(u.String(), "/")
		return nil
	}
}

// WithHTTPClient sends requests through hc, for its timeouts, proxy or TLS
// settings. The client works on a copy and wraps hc's transport with retries and
// rate limiting; hc itself is left untouched.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("http client must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent replaces the default "neon-auth-dashboard/<version>" User-Agent.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" || !validHeaderValue(ua) {
			return errors.New("user agent must be non-empty printable ASCII")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy().
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithRateLimit sets the client-side budget: perMinute sustained requests with
// bursts of up to burst requests.
func WithRateLimit(perMinute, burst int) Option {
	return func(c *config) error {
		if perMinute <= 0 || burst <= 0 {
			return fmt.Errorf("rate limit %d/min, burst %d: both must be positive", perMinute, burst)
		}
		c.perMinute, c.burst, c.noLimit = perMinute, burst, false
		return nil
	}
}

// WithoutRateLimit turns the client-side limiter off, for benchmarks and for
// servers that are not Neon.
func WithoutRateLimit() Option {
	return func(c *config) error {
		c.noLimit = true
		return nil
	}
}

// WithObserver sends metrics to o.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		if o == nil {
			return errors.New("observer must not be nil")
		}
		c.observer = o
		return nil
	}
}

// WithReadCache gives the client a read cache (see readcache.go): answers to
// reads are kept for ttl, identical concurrent reads are sent once, and writes
// drop what they may have changed. A ttl of zero or less keeps nothing, as
// without the option.
func WithReadCache(ttl time.Duration) Option {
	return func(c *config) error {
		c.readCacheTTL = max(ttl, 0)
		return nil
	}
}

// WithFreshness gives the read cache a freshness window: a branch's Neon
// Auth and its settings, which change a few times a day and nearly always
// through this client (whose writes drop them at once), stay fresh for
// window; and any answer past its freshness is still served, for up to
// window more, while one background read refreshes it, so a page never waits
// on Neon for what it has. Zero or less turns both off. It takes effect only
// with WithReadCache.
func WithFreshness(window time.Duration) Option {
	return func(c *config) error {
		c.freshness = max(window, 0)
		return nil
	}
}

// validHeaderValue accepts printable ASCII only, which keeps header injection
// and odd encodings out of outgoing requests.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
