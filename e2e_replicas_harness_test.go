package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"
)

// replicaHeader names the replica that answered; the proxy records it.
const replicaHeader = "X-Dashboard-Replica"

// proxyErrorHeader marks an answer the test's proxy made itself.
const proxyErrorHeader = "X-Test-Proxy-Error"

// childProc is one process the replicas test runs from this test binary as
// the real `dashboard` command (see TestMain): the Neon API sandbox or a
// dashboard replica.
type childProc struct {
	name string
	// URL is what the process printed as its address.
	URL  string
	cmd  *exec.Cmd
	out  *lineWatcher
	logs *syncBuffer
	// exited is closed once the process has ended; err is then its end.
	exited chan struct{}
	err    error
}

// childEnv is the environment a child starts from: only what any program
// needs, so that nothing the dashboard reads leaks in from the test's own
// environment.
func childEnv(args []string, env map[string]string) []string {
	out := []string{mainArgsEnv + "=" + strings.Join(args, "\n")}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// startChild runs `dashboard args...` with env and waits until it prints
// the line addr matches, whose first submatch becomes its URL. The process
// is stopped when the test ends: SIGTERM, so the sandbox drops its
// databases, then SIGKILL if it has not ended within 15 s.
func startChild(t *testing.T, name string, args []string, env map[string]string, addr *regexp.Regexp) *childProc {
	t.Helper()
	p := &childProc{name: name, out: newLineWatcher(addr), logs: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = childEnv(args, env)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.logs
	endWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s's last log lines:\n%s", name, p.tail(env))
		}
	})
	select {
	case p.URL = <-p.out.match:
	case <-p.exited:
		t.Fatalf("%s ended before it served: %v\nstdout:\n%s\nlog:\n%s", name, p.err, p.out, p.tail(env))
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not print its address within 60 s\nlog:\n%s", name, p.tail(env))
	}
	return p
}

// tail is the end of the process's log for the test's output, with every
// value of its environment that is a secret blanked out, should one have
// reached the log (checkNoSecretInLogs fails the test for that).
func (p *childProc) tail(env map[string]string) string {
	out := lastLogLines(p.logs.String(), 40)
	for k, v := range env {
		if len(v) >= 8 && (strings.Contains(k, "KEY") || strings.Contains(k, "SECRET") || strings.HasSuffix(k, "DATABASE_URL")) {
			out = strings.ReplaceAll(out, v, "["+k+"]")
		}
	}
	return out
}

// stop ends the process gracefully, or kills it after 15 s.
func (p *childProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill ends the process at once, as a crashed machine or the OOM killer
// would: no shutdown, no lease given back.
func (p *childProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still runs 10 s after SIGKILL", p.name)
	}
}

// served is one request as the round-robin proxy passed it on.
type served struct {
	at      time.Time
	method  string
	path    string
	backend int
	// replica is the X-Dashboard-Replica header of the answer ("" when the
	// dashboard does not send it).
	replica string
	status  int
	// proxyErr is why the proxy answered itself, having no answer from
	// the backend ("" when the backend answered); "canceled" when the
	// client gave up first, as a browser leaving a page does.
	proxyErr string
}

// rrProxy is a round-robin load balancer in front of the replicas: each
// request goes to the next backend in turn, whatever the path or cookies,
// as a load balancer without session affinity does. It records which
// backend served each request.
type rrProxy struct {
	URL      string
	backends []*httputil.ReverseProxy
	next     atomic.Uint64
	srv      *http.Server

	mu     sync.Mutex
	record []served
}

// listenProxy takes the proxy's address, so the replicas can be told where
// the identity provider sends people back, before they start.
func listenProxy(t *testing.T) (*rrProxy, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // should the test end before serve
	return &rrProxy{URL: "http://" + ln.Addr().String()}, ln
}

// serve starts passing requests on to targets, in turn.
func (p *rrProxy) serve(t *testing.T, ln net.Listener, targets ...string) {
	t.Helper()
	for _, target := range targets {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		p.backends = append(p.backends, &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				// The Host the browser asked for, as load balancers keep it:
				// the dashboard's cookies and redirects are for that host.
				r.Out.Host = r.In.Host
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				why := err.Error()
				if r.Context().Err() != nil {
					why = "canceled"
				}
				w.Header().Set(proxyErrorHeader, why)
				http.Error(w, "proxy: no answer from the backend: "+err.Error(), http.StatusBadGateway)
			},
		})
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.srv.Shutdown(ctx); err != nil {
			_ = p.srv.Close()
		}
	})
}

// ServeHTTP passes r on to the next backend and records it.
func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int((p.next.Add(1) - 1) % uint64(len(p.backends)))
	rec := &statusRecorder{ResponseWriter: w}
	p.backends[i].ServeHTTP(rec, r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record = append(p.record, served{
		at: time.Now(), method: r.Method, path: r.URL.Path, backend: i,
		replica: w.Header().Get(replicaHeader), status: rec.status, proxyErr: w.Header().Get(proxyErrorHeader),
	})
}

// since is what the proxy recorded from the n-th request on.
func (p *rrProxy) since(n int) []served {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]served(nil), p.record[min(n, len(p.record)):]...)
}

// count is how many requests the proxy has recorded.
func (p *rrProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.record)
}

// statusRecorder keeps the status an answer was sent with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets the proxy flush streamed answers through the recorder.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// perBackend counts requests by backend.
func perBackend(rs []served) map[int]int {
	n := map[int]int{}
	for _, r := range rs {
		n[r.backend]++
	}
	return n
}

// metricSum adds up the samples of one Prometheus counter whose labels
// satisfy keep, from a replica's /metrics (loopback peers may read it).
func metricSum(t *testing.T, base, name string, keep func(labels string) bool) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", base, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", base, res.Status)
	}
	var sum float64
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		labels, value := "", rest
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			labels, value = rest[1:end], rest[end+1:]
		}
		if !keep(labels) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// mustGet fetches target with c and fails unless the answer has status want.
func mustGet(t *testing.T, c *http.Client, target string, want int) reply {
	t.Helper()
	a := fetch(t, c, http.MethodGet, target)
	if a.status != want {
		t.Fatalf("GET %s: %d, want %d\n%.600s", target, a.status, want, a.body)
	}
	return a
}

// postForm posts values to target with c, without following a redirect,
// and returns the answer with its body read.
func postForm(t *testing.T, c *http.Client, target string, values url.Values) reply {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := noFollow.PostForm(target, values)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return reply{status: res.StatusCode, header: res.Header, body: string(b), url: target}
}

// pollUntil polls check every interval until it reports done or timeout
// passes, and returns how long it took; err is check's last complaint.
func pollUntil(timeout, interval time.Duration, check func() (bool, error)) (time.Duration, error) {
	start := time.Now()
	var last error
	for {
		done, err := check()
		if done {
			return time.Since(start), nil
		}
		last = err
		if time.Since(start) > timeout {
			if last == nil {
				last = errors.New("still not done")
			}
			return time.Since(start), fmt.Errorf("after %s: %w", time.Since(start).Round(time.Millisecond), last)
		}
		time.Sleep(interval)
	}
}

// within runs actions under a timeout of their own, so that a wait for what
// another replica should show fails in d instead of using up the browser's
// whole budget.
func within(d time.Duration, actions ...chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	steps := chromedp.Steps(actions...)
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return steps(ctx, tg)
	}
}

// formOf reads the form sel of a page: its action, resolved against base,
// and the values a browser would submit.
func formOf(t *testing.T, body, base, sel string) (string, url.Values) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	form := doc.Find(sel).First()
	if form.Length() == 0 {
		t.Fatalf("the page has no form %s:\n%.600s", sel, body)
	}
	vals := url.Values{}
	form.Find("input[name], select[name], textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ, _ := s.Attr("type")
		switch {
		case goquery.NodeName(s) == "select":
			v, _ := s.Find("option[selected]").Attr("value")
			vals.Add(name, v)
		case goquery.NodeName(s) == "textarea":
			vals.Add(name, s.Text())
		case typ == "checkbox" || typ == "radio":
			if _, on := s.Attr("checked"); on {
				vals.Add(name, s.AttrOr("value", "on"))
			}
		case typ != "submit" && typ != "button":
			vals.Add(name, s.AttrOr("value", ""))
		}
	})
	action, _ := form.Attr("action")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(action)
	if err != nil {
		t.Fatalf("form %s's action %q: %v", sel, action, err)
	}
	return u.ResolveReference(ref).String(), vals
}
