package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// neonCall is one request the dashboard sent to the Neon API.
type neonCall struct {
	at     time.Time // when it reached the proxy
	op     string    // method and path pattern
	status int       // the sandbox's answer; 502 when it gave none
}

// counter is a reverse proxy between the dashboard and the sandbox that
// counts every Neon call: when it arrived, its operation and its answer.
// Seeding goes to the sandbox directly and is not counted.
type counter struct {
	url   string
	srv   *http.Server
	mu    sync.Mutex
	calls []neonCall
}

// startCounter serves the proxy on a free loopback port in front of target,
// the sandbox's address.
func startCounter(target string) (*counter, error) {
	to, err := url.Parse(target)
	if err != nil || !isLoopbackHost(to.Hostname()) {
		return nil, fmt.Errorf("proxy: target %q is not a loopback URL", target)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(to) },
		Transport: tr,
		// A call the sandbox did not answer is counted as a 502.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: listen: %w", err)
	}
	c := &counter{url: "http://" + ln.Addr().String()}
	c.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(sw, r)
		c.mu.Lock()
		c.calls = append(c.calls, neonCall{at: at, op: operation(r.Method, r.URL.Path), status: sw.status()})
		c.mu.Unlock()
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// close stops the proxy; the dashboard has stopped before.
func (c *counter) close() { _ = c.srv.Close() }

// snapshot is every call counted so far.
func (c *counter) snapshot() []neonCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]neonCall(nil), c.calls...)
}

// statusWriter remembers the status the proxy answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// idAfter names the id that follows a collection in a Neon API path.
var idAfter = map[string]string{
	"projects":        "{project}",
	"branches":        "{branch}",
	"databases":       "{database}",
	"roles":           "{role}",
	"endpoints":       "{endpoint}",
	"operations":      "{operation}",
	"users":           "{user}",
	"oauth_providers": "{provider}",
	"integration":     "{provider}",
}

// notIDs are path words that follow a collection without being an id, as in
// /projects/auth/create or /users/me.
var notIDs = map[string]bool{"auth": true, "shared": true, "me": true}

// operation is a call's method and path with its ids replaced by their kind:
// GET /projects/{project}/branches/{branch}/auth.
func operation(method, path string) string {
	p := strings.Trim(strings.TrimPrefix(path, apiPrefix), "/")
	segs := strings.Split(p, "/")
	for i := 1; i < len(segs); i++ {
		if name, ok := idAfter[segs[i-1]]; ok && !notIDs[segs[i]] {
			segs[i] = name
		}
	}
	return method + " /" + strings.Join(segs, "/")
}
