// Command loadtest puts the dashboard under load on this machine and reports
// how it holds up: requests a second, latency, failed and empty replies (shed
// 503s counted apart), the server's memory, and how soon it answers normally
// once the load stops; the readiness badges the project pages load after
// themselves are reported apart from the pages, each with its own recovery.
//
// By default it builds the dashboard, starts the demo twice (with the Neon
// read cache on, then off) and loads each for -duration with -conns
// connections:
//
//	go run ./cmd/loadtest -duration 30s
//	go run ./cmd/loadtest -url http://127.0.0.1:8080/ -modes given
//
// It only ever sends traffic to loopback addresses, and stops by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bounds on what one run may ask for.
const (
	maxConns    = 1000
	maxDuration = 10 * time.Minute
)

type options struct {
	url      string
	conns    int
	duration time.Duration
	modes    []string
	paths    []string
	// recover lists the kinds whose recovery is timed once the load stops.
	recover []string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "load: %d connections for %s per mode, loopback only\n", o.conns, o.duration)
	for _, mode := range o.modes {
		if err := runMode(ctx, o, mode, out); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
	}
	return nil
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var o options
	var modes, paths, recoverKinds string
	fs.StringVar(&o.url, "url", "", "load a dashboard already running at this loopback URL instead of starting the demo")
	fs.IntVar(&o.conns, "conns", 200, "concurrent connections")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long to load each mode")
	fs.StringVar(&modes, "modes", "cached,uncached", "demo runs: cached (CACHE_TTL=15s) and/or uncached (CACHE_TTL=0); with -url: given")
	fs.StringVar(&paths, "paths", "", "comma-separated paths to load (default: the demo's pages and readiness badges)")
	fs.StringVar(&recoverKinds, "recover", strings.Join(kinds, ","), "kinds whose recovery is timed, polled together from when the load stops: "+
		"pages and/or badges (a page's reads go before a badge's, so timing one alone shows what it needs by itself)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.conns < 1 || o.conns > maxConns:
		return o, fmt.Errorf("-conns %d must be between 1 and %d", o.conns, maxConns)
	case o.duration <= 0 || o.duration > maxDuration:
		return o, fmt.Errorf("-duration %s must be between 0 and %s", o.duration, maxDuration)
	}
	o.modes = splitList(modes)
	o.paths = splitList(paths)
	o.recover = splitList(recoverKinds)
	for _, k := range o.recover {
		if !slices.Contains(kinds, k) {
			return o, fmt.Errorf("-recover: unknown kind %q (want %s)", k, strings.Join(kinds, " or "))
		}
	}
	if o.url != "" {
		if err := loopbackOnly(o.url); err != nil {
			return o, err
		}
		o.modes = []string{"given"}
	}
	for _, m := range o.modes {
		if _, ok := cacheTTLs[m]; !ok && m != "given" {
			return o, fmt.Errorf("unknown mode %q (want cached or uncached)", m)
		}
	}
	return o, nil
}

// cacheTTLs is the demo's CACHE_TTL for each mode.
var cacheTTLs = map[string]string{"cached": "15s", "uncached": "0"}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loopbackOnly refuses any target that is not this machine.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url %q is not an absolute URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url %q: only loopback addresses may be loaded", raw)
}

// runMode loads one server (the demo in that mode, or the given URL) and
// prints its report.
func runMode(ctx context.Context, o options, mode string, out io.Writer) error {
	base, pid := o.url, 0
	if mode != "given" {
		d, err := startDemo(ctx, cacheTTLs[mode])
		if err != nil {
			return err
		}
		defer d.stop()
		base, pid = d.url, d.pid
	}
	base = strings.TrimRight(base, "/")
	paths := o.paths
	if len(paths) == 0 {
		var err error
		if paths, err = demoPaths(ctx, base); err != nil {
			return err
		}
	}
	firstView, err := measureFirstView(ctx, base)
	if err != nil {
		return err
	}
	rssBefore := readRSS(pid)
	mem := watchRSS(pid)
	res := hammer(ctx, base, paths, o.conns, o.duration)
	recoveries := recoverEach(ctx, base, paths, o.recover)
	peak := mem.stop()
	report(out, mode, paths, res, firstView, rssBefore, peak, readRSS(pid), recoveries)
	return nil
}

// recovery is how soon one path of a kind answered normally once the load
// stopped.
type recovery struct {
	path  string
	after time.Duration
	err   error
}

// recoverEach times, from the moment the load stops and all at once, the
// recovery of the first path of each of these kinds among paths.
func recoverEach(ctx context.Context, base string, paths, these []string) map[string]recovery {
	out := map[string]recovery{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, k := range these {
		i := slices.IndexFunc(paths, func(p string) bool { return kindOf(p) == k })
		if i < 0 {
			continue
		}
		wg.Go(func() {
			after, err := timeToRecover(ctx, base, paths[i])
			mu.Lock()
			out[k] = recovery{path: paths[i], after: after, err: err}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
