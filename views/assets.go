// Package views holds the dashboard's templ components and the view models they
// render. Each page takes one typed model shaped like the screen.
package views

import "github.com/neonauth-admin/dashboard/static"

// Asset returns the content-hashed URL of an embedded asset, e.g.
// Asset("app.css") → "/static/app.1a2b3c4d5e6f.css".
func Asset(name string) string { return static.URL(name) }
