// Package requestid carries the id of the dashboard request that triggered a
// Neon call, so the audit line, the error page and Neon's own logs name the
// same request. It sits below both the identity middleware, which assigns
// the id, and the Neon client, which sends it.
package requestid

import "context"

// Header carries the id Neon echoes back as request_id in errors.
const Header = "X-Request-ID"

type key struct{}

// With returns a context whose Neon calls send id as the Header. The client
// replaces an id that is empty, too long or not printable ASCII with a fresh
// one, since it may come from an untrusted header.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the id set by With, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
