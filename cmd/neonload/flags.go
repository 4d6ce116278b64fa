package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Bounds on what one run may ask for.
const (
	maxAdmins   = 100
	maxBranches = 500 // projects × branches
	maxDuration = 10 * time.Minute
	maxPause    = time.Minute
)

// defaultDatabaseURL is the local server the sandbox uses when neither
// -database-url nor DATABASE_URL names one.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

type options struct {
	src      string
	dbURL    string
	projects int
	branches int
	admins   int
	pauseMin time.Duration
	pauseMax time.Duration
	warmup   time.Duration
	measure  time.Duration
	seed     uint64
	// cacheTTL is the dashboard's CACHE_TTL; "" leaves its default.
	cacheTTL string
	// env is extra KEY=VALUE settings for the dashboard.
	env envFlags
	// mix weighs the kinds of click, in pageKinds order.
	mix  []int
	json bool
	// logFile receives the dashboard's stderr; "" drops it.
	logFile string
}

// envFlags collects repeated -env KEY=VALUE values.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }

func (e *envFlags) Set(v string) error {
	k, _, ok := strings.Cut(v, "=")
	if !ok || k == "" || strings.ContainsAny(k, " \t\n") {
		return fmt.Errorf("want KEY=VALUE, not %q", v)
	}
	*e = append(*e, v)
	return nil
}

// quick is the scenario -quick runs, for a smoke test.
var quick = map[string]string{"projects": "2", "branches": "3", "admins": "4", "warmup": "10s", "measure": "20s"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("neonload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.src, "src", "", "the dashboard's source to build (default: this module's root); an older checkout gives \"before\" figures")
	fs.StringVar(&o.dbURL, "database-url", "", "loopback Postgres server backing the sandbox (DATABASE_URL; default "+defaultDatabaseURL+")")
	fs.IntVar(&o.projects, "projects", 5, "projects to seed")
	fs.IntVar(&o.branches, "branches", 10, "branches per project with Better Auth, the default branch included")
	fs.IntVar(&o.admins, "admins", 20, "admins clicking at once")
	fs.DurationVar(&o.pauseMin, "pause-min", time.Second, "shortest pause between an admin's clicks")
	fs.DurationVar(&o.pauseMax, "pause-max", 3*time.Second, "longest pause between an admin's clicks")
	fs.DurationVar(&o.warmup, "warmup", time.Minute, "clicking before the measured window")
	fs.DurationVar(&o.measure, "measure", time.Minute, "the measured window")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the admins' random clicks and pauses")
	fs.StringVar(&o.cacheTTL, "cache-ttl", "", "the dashboard's CACHE_TTL (default: the dashboard's own default)")
	fs.Var(&o.env, "env", "extra KEY=VALUE setting for the dashboard, repeatable (an older binary ignores what it does not know)")
	mix := fs.String("mix", defaultMix(), "relative weights of the kinds of click")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.logFile, "log", "", "write the dashboard's log (its stderr) to this file")
	isQuick := fs.Bool("quick", false, "a short run: 2 projects × 3 branches, 4 admins, 10s warm-up, 20s measured (explicit flags win)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *isQuick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range quick {
			if !set[name] {
				_ = fs.Set(name, v)
			}
		}
	}
	var err error
	if o.mix, err = parseMix(*mix); err != nil {
		return o, err
	}
	o.dbURL = cmp.Or(o.dbURL, os.Getenv("DATABASE_URL"), defaultDatabaseURL)
	return o, o.check()
}

// check enforces the bounds and that everything runs on this machine.
func (o *options) check() error {
	switch {
	case o.admins < 1 || o.admins > maxAdmins:
		return fmt.Errorf("-admins %d must be between 1 and %d", o.admins, maxAdmins)
	case o.projects < 1 || o.branches < 1 || o.projects*o.branches > maxBranches:
		return fmt.Errorf("-projects %d × -branches %d must be at least 1 × 1 and at most %d branches", o.projects, o.branches, maxBranches)
	case o.warmup < 0 || o.warmup > maxDuration:
		return fmt.Errorf("-warmup %s must be between 0 and %s", o.warmup, maxDuration)
	case o.measure <= 0 || o.measure > maxDuration:
		return fmt.Errorf("-measure %s must be more than 0 and at most %s", o.measure, maxDuration)
	case o.pauseMin < 0 || o.pauseMax < o.pauseMin || o.pauseMax > maxPause:
		return fmt.Errorf("-pause-min %s and -pause-max %s must satisfy 0 ≤ min ≤ max ≤ %s", o.pauseMin, o.pauseMax, maxPause)
	}
	if o.cacheTTL != "" {
		if _, err := time.ParseDuration(o.cacheTTL); err != nil && o.cacheTTL != "0" {
			return fmt.Errorf("-cache-ttl %q is not a duration", o.cacheTTL)
		}
	}
	if o.branches < 2 {
		o.mix[kindIndex(kindCompare)] = 0 // nothing to compare
		if slices.Max(o.mix) == 0 {
			return fmt.Errorf("-mix: with one branch only compare clicks are left, and there is nothing to compare")
		}
	}
	return loopbackPostgres(o.dbURL)
}

// loopbackPostgres refuses a Postgres server that is not on this machine (a
// Unix socket or a loopback address).
func loopbackPostgres(raw string) error {
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("-database-url / DATABASE_URL is not a valid Postgres connection string")
	}
	hosts := []string{cfg.Host}
	for _, f := range cfg.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "/") && !isLoopbackHost(h) {
			return fmt.Errorf("-database-url / DATABASE_URL: host %q is not loopback; neonload runs on this machine only", h)
		}
	}
	return nil
}

// isLoopbackHost reports whether host (a name or an address) is this machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultMix weighs every kind of click the same.
func defaultMix() string {
	parts := make([]string, len(pageKinds))
	for i, k := range pageKinds {
		parts[i] = k + "=1"
	}
	return strings.Join(parts, ",")
}

// parseMix reads "projects=1,project=2,..."; kinds left out weigh 0.
func parseMix(s string) ([]int, error) {
	w := make([]int, len(pageKinds))
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		i := kindIndex(k)
		n, err := strconv.Atoi(v)
		if !ok || i < 0 || err != nil || n < 0 || n > 1000 {
			return nil, fmt.Errorf("-mix: %q is not KIND=WEIGHT (KIND one of %s, WEIGHT 0 to 1000)", part, strings.Join(pageKinds, ", "))
		}
		w[i] = n
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("-mix: every weight is 0")
	}
	return w, nil
}
