package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/identity"
)

// Server timeouts besides the request's own (REQUEST_TIMEOUT).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	idleTimeout       = 2 * time.Minute
	// errorPageAllowance is the time past a request's deadline in which its
	// error page is still written; the write timeout covers both, so a slow
	// Neon call ends in a 504 page, never in a connection closed mid-answer.
	errorPageAllowance = 10 * time.Second
)

// newHTTPServer serves h with every request bounded by limits.RequestTimeout.
// Requests' contexts descend from one base context; cancelling it with
// handlers.ErrShuttingDown as the cause cancels the Neon calls and queries of
// every running request, and their handlers answer 503.
func newHTTPServer(h http.Handler, limits serverLimits, logger *slog.Logger) (*http.Server, context.CancelCauseFunc) {
	base, cancel := context.WithCancelCause(context.Background())
	return &http.Server{
		Handler:           withRequestDeadline(h, limits.RequestTimeout),
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      limits.RequestTimeout + errorPageAllowance,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    identity.ServerMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, cancel
}

// withRequestDeadline gives each request a deadline. The Neon client fits its
// rate-limit queueing and retries inside it, and the error handler turns an
// expired one into a 504 page.
func withRequestDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// serveUntil serves on ln until ctx ends, then shuts down within grace:
// the listener closes at once, running requests get the first half of grace
// to finish as usual, and then cancelRequests cancels what they are waiting
// for, so that the second half is enough to answer them with 503.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, cancelRequests context.CancelCauseFunc, grace time.Duration, logger *slog.Logger) error {
	defer cancelRequests(handlers.ErrShuttingDown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", grace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	drain := time.AfterFunc(grace/2, func() {
		logger.Info("shutting down: cancelling the requests still running")
		cancelRequests(handlers.ErrShuttingDown)
	})
	defer drain.Stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s: %w", grace, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
