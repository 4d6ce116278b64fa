package neonapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/neonauth-admin/dashboard/internal/requestid"
)

// RequestIDHeader carries the id Neon echoes back as request_id in errors, so a
// failure seen in the dashboard can be matched with Neon's own logs.
const RequestIDHeader = requestid.Header

// maxRequestIDLen keeps caller-supplied ids (often copied from an inbound
// request header) to a sane size.
const maxRequestIDLen = 128

// WithRequestID returns a context whose Neon calls send id as X-Request-ID,
// for example the id of the dashboard request that triggered them. An id that is
// empty, longer than 128 bytes or not printable ASCII is ignored and a fresh one
// generated, since it may come from an untrusted header.
func WithRequestID(ctx context.Context, id string) context.Context {
	return requestid.With(ctx, id)
}

// RequestIDFrom returns the id set by WithRequestID, or "".
func RequestIDFrom(ctx context.Context) string { return requestid.From(ctx) }

// requestIDFor picks the id a call sends: the caller's when usable, else a new
// random UUID.
func requestIDFor(ctx context.Context) string {
	if id := RequestIDFrom(ctx); id != "" && len(id) <= maxRequestIDLen && validHeaderValue(id) {
		return id
	}
	return uuid.NewString()
}

type operationKey struct{}

// withOperation tells the transport which operationId a request belongs to, so
// retries are reported under the right name.
func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

func operationFrom(ctx context.Context) string {
	op, _ := ctx.Value(operationKey{}).(string)
	return op
}
