// Command dashboard is a self-hosted admin dashboard for Neon Auth, with a local
// Neon API sandbox for demos and CI.
//
// Usage:
//
//	dashboard [serve] [flags]   run the dashboard (add --demo for the embedded sandbox)
//	dashboard sandbox [flags]   run the Neon API sandbox alone
//	dashboard healthcheck [URL] exit 0 when URL answers below 500 (container healthchecks)
//	dashboard audit verify      check the audit trail's hash chain (STATE_DATABASE_URL)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal starts a graceful shutdown; restoring the default
		// lets a second one end a shutdown that takes too long.
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

// run dispatches to a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, args, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, stdout, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, version)
		return err
	default:
		return fmt.Errorf("unknown command %q (want serve, sandbox, healthcheck, audit or version)", cmd)
	}
}
