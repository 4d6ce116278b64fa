package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// NeonBurst is how many calls Neon lets one API key make at once: its limit
// is 700 calls a minute "with bursts of up to 40 requests a second". The
// sandbox's limit keeps that burst, smaller only when the limit per minute
// is.
const NeonBurst = 40

// statsWindow is the window of GET /_sandbox/requests's max_per_minute.
const statsWindow = time.Minute

// keyStats is what the sandbox saw of one API key. Guarded by requestStats.mu.
type keyStats struct {
	bucket      *rate.Limiter // nil when the limit is off
	requests    int
	rateLimited int
	// recent holds the arrival times of the requests of the last
	// statsWindow, oldest first, for maxInWindow.
	recent      []time.Time
	maxInWindow int
}

// requestStats counts the API requests per key and applies the per-key
// rate limit (Config.RateLimitPerMinute).
type requestStats struct {
	mu          sync.Mutex
	perMinute   int
	now         func() time.Time
	keys        map[string]*keyStats // by keyHash
	total       int
	rateLimited int
	// recent and maxInWindow are keyStats's over every key.
	recent      []time.Time
	maxInWindow int
}

func newRequestStats(perMinute int) *requestStats {
	return &requestStats{perMinute: max(perMinute, 0), now: time.Now, keys: map[string]*keyStats{}}
}

// keyHash names an API key in the stats without revealing it: the first
// twelve hex digits of its SHA-256.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// bearer is the request's API key; checkToken has made sure there is one.
func bearer(r *http.Request) string {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.TrimSpace(token)
}

// take counts one API request made with key, and reports how long the
// client must wait before its key may call again when the request is over
// the limit (0: it may be served).
func (st *requestStats) take(key string) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now()
	h := keyHash(key)
	k := st.keys[h]
	if k == nil {
		k = &keyStats{}
		if st.perMinute > 0 {
			k.bucket = rate.NewLimiter(rate.Limit(float64(st.perMinute)/60), min(NeonBurst, st.perMinute))
		}
		st.keys[h] = k
	}
	st.total++
	k.requests++
	st.recent, st.maxInWindow = slide(st.recent, now, st.maxInWindow)
	k.recent, k.maxInWindow = slide(k.recent, now, k.maxInWindow)
	if k.bucket == nil {
		return 0
	}
	r := k.bucket.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		// Neon refuses the call rather than queueing it, and a refused
		// call costs nothing: hand the token back.
		r.CancelAt(now)
		st.rateLimited++
		k.rateLimited++
		return d
	}
	return 0
}

// slide adds an arrival at now to the window's arrivals, drops those older
// than statsWindow, and returns them with the largest count seen in one
// window.
func slide(recent []time.Time, now time.Time, most int) ([]time.Time, int) {
	cut := now.Add(-statsWindow)
	i := 0
	for i < len(recent) && !recent[i].After(cut) {
		i++
	}
	if i > 0 {
		recent = append(recent[:0], recent[i:]...)
	}
	recent = append(recent, now)
	return recent, max(most, len(recent))
}

// rateLimit answers a request over its key's limit with Neon's 429: a
// GeneralError and Retry-After in whole seconds. It reports whether it did.
func (s *Sandbox) rateLimit(w http.ResponseWriter, r *http.Request) bool {
	d := s.requests.take(bearer(r))
	if d <= 0 {
		return false
	}
	secs := max(1, int((d+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, r, http.StatusTooManyRequests, codeRateLimited, "too many requests: rate limit exceeded")
	return true
}

// RequestStats is what GET /_sandbox/requests answers: the API requests
// the sandbox counted since it started or was last reset (those that
// passed the bearer token check; requests an injected fault answered are
// not counted).
type RequestStats struct {
	// RateLimitPerMinute is the per-key limit in force (0: none).
	RateLimitPerMinute int `json:"rate_limit_per_minute"`
	// Burst is how many calls a key may make at once under the limit.
	Burst int `json:"burst"`
	// Requests counts the API requests, the refused ones included.
	Requests int `json:"requests"`
	// RateLimited counts the requests answered 429 by the limit.
	RateLimited int `json:"rate_limited"`
	// MaxPerMinute is the most requests that arrived within any 60 s.
	MaxPerMinute int `json:"max_per_minute"`
	// Keys has the same counts per API key, busiest first.
	Keys []KeyRequestStats `json:"keys"`
}

// KeyRequestStats is RequestStats for one API key.
type KeyRequestStats struct {
	// Key is the first twelve hex digits of the key's SHA-256, never the key.
	Key          string `json:"key"`
	Requests     int    `json:"requests"`
	RateLimited  int    `json:"rate_limited"`
	MaxPerMinute int    `json:"max_per_minute"`
}

// RequestStats returns what GET /_sandbox/requests answers.
func (s *Sandbox) RequestStats() RequestStats {
	st := s.requests
	st.mu.Lock()
	defer st.mu.Unlock()
	out := RequestStats{
		RateLimitPerMinute: st.perMinute,
		Requests:           st.total,
		RateLimited:        st.rateLimited,
		MaxPerMinute:       st.maxInWindow,
		Keys:               []KeyRequestStats{},
	}
	if st.perMinute > 0 {
		out.Burst = min(NeonBurst, st.perMinute)
	}
	for h, k := range st.keys {
		out.Keys = append(out.Keys, KeyRequestStats{Key: h, Requests: k.requests, RateLimited: k.rateLimited, MaxPerMinute: k.maxInWindow})
	}
	slices.SortFunc(out.Keys, func(a, b KeyRequestStats) int {
		if a.Requests != b.Requests {
			return b.Requests - a.Requests
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// ResetRequestStats forgets the counts and refills every key's budget, as
// DELETE /_sandbox/requests does.
func (s *Sandbox) ResetRequestStats() {
	st := s.requests
	st.mu.Lock()
	defer st.mu.Unlock()
	st.keys = map[string]*keyStats{}
	st.total, st.rateLimited, st.maxInWindow = 0, 0, 0
	st.recent = nil
}

func (s *Sandbox) getRequests(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.RequestStats())
	return nil
}

func (s *Sandbox) deleteRequests(w http.ResponseWriter, r *http.Request) error {
	s.ResetRequestStats()
	writeJSON(w, http.StatusOK, s.RequestStats())
	return nil
}
