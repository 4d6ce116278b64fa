package neonapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// The read cache (WithReadCache) remembers Neon's answers to reads for a
// short time and merges identical concurrent reads into one request, so a
// page that fans out over many projects or branches, or many people opening
// the same page, stays within Neon's rate limit. It works on requests, not
// on operations: every GET is cached except the operations in uncachedOps,
// and every other request drops what it may have changed, so an operation
// added to the client needs no cache code.
//
// What is kept of a read is the raw body of its successful answer, decoded
// and checked again for each caller, so every caller gets its own copy.
// Errors are never kept, except a 404 that is an answer (notFoundAnswers).
// A write drops the entries of its project even when it fails, since it may
// still have applied; changes made elsewhere (the Neon Console) show up
// within the TTL, or at once after InvalidateProject. Clients that share
// Neon through several replicas tell each other of their writes and apply
// them the same way (WithRemoteWrites, readcache_remote.go).

// uncachedOps are the reads the cache always sends to Neon, each with the
// reason: their answers hold credentials, which must not be kept, or must be
// live.
var uncachedOps = map[string]string{
	"getConnectionURI":             "the URI holds the role's password",
	"getProjectBranchRolePassword": "reveal_password: the answer is the role's password",
	"listProjectOperations":        "polled to follow operations in progress",
	"getProjectOperation":          "polled to follow an operation in progress",
	"getAuthDetails":               "the readiness probe: it must reach Neon with the key",
}

// notFoundAnswers are the reads whose 404 is kept like a success. getNeonAuth's
// is Neon's answer "this branch has no Neon Auth", not a failure, and a page
// that shows every branch would otherwise ask again for each branch without it.
var notFoundAnswers = map[string]bool{"getNeonAuth": true}

// flightTimeout bounds a shared upstream read. The read runs detached from the
// first caller's cancellation, since other callers may be waiting on it.
const flightTimeout = time.Minute

// sweepThreshold is the entry count above which a store also drops expired
// entries, so a long-running dashboard's cache stays bounded by recent use.
const sweepThreshold = 512

// readCache is a Client's read cache.
type readCache struct {
	// ttl is how long an answer is fresh: served as it is.
	ttl time.Duration
	// window, when positive, is the freshness window (WithFreshness): how
	// long a branch's Neon Auth answers stay fresh, and how long any answer
	// past its freshness is still served while one refresh runs.
	window time.Duration
	now    func() time.Time
	group  singleflight.Group

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	// gens counts invalidations per project ("" for the account's reads, the
	// project list among them). A read only stores its answer if no
	// invalidation happened while it ran, and reads never join a flight that
	// started before one.
	gens map[string]uint64
	// refreshing holds the entries a background refresh is reading, so
	// each has at most one however many callers are served it stale.
	refreshing map[cacheKey]bool
	// epoch counts the times the whole cache was forgotten; gen adds it to
	// a project's count.
	epoch uint64
	// remote is set when other clients' writes are heard (WithRemoteWrites):
	// publish then hears of this client's writes, and heard says whether
	// other clients' are heard now (see readcache_remote.go).
	remote  bool
	publish func(Write)
	heard   bool

	// joined, when set, is called once a caller waits on a flight; tests use
	// it to know every caller has joined before letting the upstream answer.
	joined func()
}

// cacheKey is a GET request: the project it reads (see projectOf), and its
// path and encoded query.
type cacheKey struct {
	project string
	request string
}

// answer is what the cache keeps of a read: the body of a success, or a 404
// that is an answer.
type answer struct {
	body     []byte
	notFound *APIError
}

type cacheEntry struct {
	answer answer
	// fetched is when Neon gave the answer; it is fresh until fresh, and
	// served stale while it is refreshed until stale.
	fetched, fresh, stale time.Time
}

func newReadCache(ttl, window time.Duration) *readCache {
	return &readCache{
		ttl:        ttl,
		window:     window,
		now:        time.Now,
		entries:    map[cacheKey]cacheEntry{},
		gens:       map[string]uint64{},
		refreshing: map[cacheKey]bool{},
	}
}

// freshFor is how long an answer to the read k stays fresh: the freshness
// window for a branch's Neon Auth and its settings, which change a few times
// a day, nearly always through this dashboard, whose writes drop them at
// once; the TTL for everything else.
func (rc *readCache) freshFor(k cacheKey) time.Duration {
	if rc.window > 0 && authRead(k.request) {
		return max(rc.window, rc.ttl)
	}
	return rc.ttl
}

// authRead reports whether path reads Neon Auth: a branch's integration
// and settings (/projects/{id}/branches/{id}/auth...) or a project's
// integrations (/projects/{id}/auth/integrations).
func authRead(path string) bool {
	rest, ok := strings.CutPrefix(path, "/projects/")
	if !ok {
		return false
	}
	_, rest, _ = strings.Cut(rest, "/")
	if b, ok := strings.CutPrefix(rest, "branches/"); ok {
		_, rest, _ = strings.Cut(b, "/")
	}
	return rest == "auth" || strings.HasPrefix(rest, "auth/") || strings.HasPrefix(rest, "auth?")
}

type liveKey struct{}

// ReadLive returns a context whose reads go to Neon although the read cache
// holds their answer, and join no read already in flight. What they bring
// back is remembered as usual, so pages that may show a slightly older state
// (a badge) profit from a page that may not (a checklist a person is about
// to act on).
func ReadLive(ctx context.Context) context.Context {
	return context.WithValue(ctx, liveKey{}, true)
}

// readsLive reports whether ctx came from ReadLive.
func readsLive(ctx context.Context) bool {
	live, _ := ctx.Value(liveKey{}).(bool)
	return live
}

// InvalidateProject makes the read cache forget what it holds about a
// project, for changes it cannot see (such as ones made in the Neon
// Console); "" forgets the account's reads, the project list among them.
// Without a read cache it does nothing.
func (c *Client) InvalidateProject(projectID string) {
	if c.cache != nil {
		c.cache.invalidate(projectID)
	}
}

// do makes the call cl for Client.do: a cached read is answered from the
// cache, or sent once for every concurrent caller; any other request is
// sent, and a write then drops what it may have changed.
func (rc *readCache) do(ctx context.Context, c *Client, cl call) error {
	if cl.method != http.MethodGet {
		defer rc.written(cl)
		return c.send(ctx, cl, decodeInto(ctx, cl))
	}
	if _, live := uncachedOps[cl.op]; live || cl.out == nil {
		return c.send(ctx, cl, decodeInto(ctx, cl))
	}
	k := cacheKey{project: projectOf(cl.path), request: cl.path}
	if len(cl.query) > 0 {
		k.request += "?" + cl.query.Encode()
	}
	a, err := rc.get(ctx, k, func(ctx context.Context) (answer, error) { return fetch(ctx, c, cl) })
	if err != nil {
		return err
	}
	return a.decode(ctx, cl)
}

// get returns the remembered answer for k, or fetches it once for all
// concurrent callers. Under ReadLive it fetches on its own and remembers the
// answer.
func (rc *readCache) get(ctx context.Context, k cacheKey, fetch func(context.Context) (answer, error)) (answer, error) {
	if readsLive(ctx) {
		rc.mu.Lock()
		gen := rc.gen(k.project)
		rc.mu.Unlock()
		a, err := fetch(ctx)
		if err == nil {
			rc.store(k, gen, a)
		}
		return a, err
	}
	rc.mu.Lock()
	if e, ok := rc.entries[k]; ok {
		now := rc.now()
		e = rc.trusted(k, e)
		switch {
		case now.Before(e.fresh):
			rc.mu.Unlock()
			return e.answer, nil
		case now.Before(e.stale):
			// Past its freshness but within the window: the caller gets
			// what there is now, and one refresh brings the next answer.
			rc.startRefresh(ctx, k, fetch)
			rc.mu.Unlock()
			noteStale(ctx, e.fetched)
			return e.answer, nil
		}
		delete(rc.entries, k)
	}
	gen := rc.gen(k.project)
	rc.mu.Unlock()

	flight := flightClass(ctx) + strconv.FormatUint(gen, 10) + "\x00" + k.request
	ch := rc.group.DoChan(flight, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
		defer cancel()
		a, err := fetch(fctx)
		if err == nil {
			rc.store(k, gen, a)
		}
		return a, err
	})
	if rc.joined != nil {
		rc.joined()
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return answer{}, r.Err
		}
		return r.Val.(answer), nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

// fetch sends the read cl and returns what to keep of its answer: the body of
// a success, once it decodes and checks as cl.out's type, or the 404 of an
// operation in notFoundAnswers.
func fetch(ctx context.Context, c *Client, cl call) (answer, error) {
	var a answer
	err := c.send(ctx, cl, func(body io.Reader, reqErr func(error) error) error {
		data, err := readAnswer(ctx, body, reqErr)
		if err != nil {
			return err
		}
		check := cl
		check.out = reflect.New(reflect.TypeOf(cl.out).Elem()).Interface()
		if err := decodeData(data, check, reqErr); err != nil {
			return err
		}
		a.body = data
		return nil
	})
	var apiErr *APIError
	if notFoundAnswers[cl.op] && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return answer{notFound: apiErr}, nil
	}
	return a, err
}

// decode hands the caller its copy of a: the 404 as an *APIError of its own,
// or the body decoded into cl.out and checked as a fresh answer is.
func (a answer) decode(ctx context.Context, cl call) error {
	if a.notFound != nil {
		e := *a.notFound
		return &e
	}
	return decodeData(a.body, cl, func(cause error) error {
		return &RequestError{Operation: cl.op, Method: cl.method, Path: cl.path, RequestID: requestIDFor(ctx), Err: cause}
	})
}

// startRefresh reads k again in the background, unless a refresh of it is
// already running, and keeps the answer. The read yields to interactive
// ones (BackgroundReads): when the rate budget is short it is refused, and
// the entry is served stale until a later caller tries again. rc.mu is held.
func (rc *readCache) startRefresh(ctx context.Context, k cacheKey, fetch func(context.Context) (answer, error)) {
	if rc.refreshing[k] {
		return
	}
	rc.refreshing[k] = true
	gen := rc.gen(k.project)
	go func() {
		defer func() {
			rc.mu.Lock()
			delete(rc.refreshing, k)
			rc.mu.Unlock()
		}()
		fctx, cancel := context.WithTimeout(BackgroundReads(context.WithoutCancel(ctx), 1), flightTimeout)
		defer cancel()
		if a, err := fetch(fctx); err == nil {
			rc.store(k, gen, a)
		}
	}()
}

func (rc *readCache) store(k cacheKey, gen uint64, a answer) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.gen(k.project) != gen {
		return // invalidated while in flight: the answer may predate a write
	}
	now := rc.now()
	if len(rc.entries) >= sweepThreshold {
		for key, e := range rc.entries {
			if !now.Before(e.stale) {
				delete(rc.entries, key)
			}
		}
	}
	fresh := now.Add(rc.freshFor(k))
	rc.entries[k] = cacheEntry{answer: a, fetched: now, fresh: fresh, stale: fresh.Add(rc.window)}
}

// invalidate forgets every entry of a project ("" for the account's reads).
func (rc *readCache) invalidate(projectID string) { rc.invalidateBut(projectID, "") }

// invalidateBut forgets the entries of a project, except those below the
// other branches of the project when keep is the path prefix of a written
// branch ("/projects/{id}/branches/{branch}/"): what is below one branch
// (its Neon Auth and settings, databases, roles) changes with that branch
// alone, and a fifty-branch project should not read every branch's
// settings again after one branch's write. Reads that started before are
// not kept either way (gens counts per project).
func (rc *readCache) invalidateBut(projectID, keep string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.gens[projectID]++
	var branches string
	if keep != "" {
		branches = keep[:strings.LastIndex(strings.TrimSuffix(keep, "/"), "/")+1]
	}
	for k := range rc.entries {
		if k.project != projectID {
			continue
		}
		if keep != "" && strings.HasPrefix(k.request, branches) && !strings.HasPrefix(k.request, keep) {
			if rest := strings.TrimPrefix(k.request, branches); strings.Contains(rest, "/") {
				continue // below another branch
			}
		}
		delete(rc.entries, k)
	}
}

// invalidateBelow forgets the entries of a project below any of prefixes.
// Reads of the project that started before are not kept either (gens
// counts per project).
func (rc *readCache) invalidateBelow(projectID string, prefixes ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.gens[projectID]++
	for k := range rc.entries {
		if k.project != projectID {
			continue
		}
		for _, prefix := range prefixes {
			if strings.HasPrefix(k.request, prefix) {
				delete(rc.entries, k)
				break
			}
		}
	}
}

// branchBelow returns "/projects/{id}/branches/{branch}/" when path is below
// a branch (a write to its Neon Auth, databases or roles), and "" otherwise
// (a write to the project, its branch list or the branch itself).
func branchBelow(path string) string {
	rest, ok := strings.CutPrefix(path, "/projects/")
	if !ok {
		return ""
	}
	project, rest, _ := strings.Cut(rest, "/")
	rest, ok = strings.CutPrefix(rest, "branches/")
	if !ok {
		return ""
	}
	branch, below, ok := strings.Cut(rest, "/")
	if !ok || branch == "" || below == "" {
		return ""
	}
	return "/projects/" + project + "/branches/" + branch + "/"
}

// written drops what the write cl may have changed: the entries of the
// project its path names (for a write below one branch, all but those below
// the project's other branches), and of the one its body names as project_id (the
// operations below /projects/auth name it only there). A write to the
// account, such as createProject, or to a project itself also drops the
// account's reads, the project list among them.
func (rc *readCache) written(cl call) {
	w := Write{Path: cl.path, Project: bodyProject(cl.body)}
	rc.apply(w)
	if rc.publish != nil {
		rc.publish(w)
	}
}

// apply drops what the write w may have changed, as written says; it is
// also how another client's write is applied (ApplyRemoteWrite).
func (rc *readCache) apply(w Write) {
	p := projectOf(w.Path)
	if branch := branchBelow(w.Path); branch != "" && strings.HasPrefix(w.Path, branch+"auth/") && w.Project == "" {
		// A change to one of a branch's Neon Auth settings changes nothing
		// but what is below that branch and the project's Neon Auth: the
		// project, its branch list and the branch itself stay, so the pages
		// after a save do not read them again.
		rc.invalidateBelow(p, branch, "/projects/"+url.PathEscape(p)+"/auth")
		return
	}
	rc.invalidateBut(p, branchBelow(w.Path))
	if p != "" && !strings.Contains(strings.TrimPrefix(w.Path, "/projects/"), "/") {
		rc.invalidate("")
	}
	if w.Project != "" && w.Project != p {
		rc.invalidate(w.Project)
	}
}

// projectOf names the project a request path is about: the segment after
// /projects/, unescaped, or "" for the account's paths (/projects itself,
// /users/me, ...). The few paths whose segment there names no project
// (/projects/shared, /projects/auth/...) get a group of their own that no
// project's write drops.
func projectOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/projects/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	if raw, err := url.PathUnescape(id); err == nil {
		return raw
	}
	return id
}

// bodyProject returns the project_id member of a JSON object body, or "".
func bodyProject(body any) string {
	if body == nil {
		return ""
	}
	buf, err := json.Marshal(body)
	if err != nil {
		return ""
	}
	var named struct {
		ProjectID string `json:"project_id"`
	}
	if json.Unmarshal(buf, &named) != nil {
		return ""
	}
	return named.ProjectID
}
