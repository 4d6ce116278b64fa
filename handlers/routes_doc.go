package handlers

import (
	"fmt"
	"strings"
)

// RouteDoc renders the route table as docs/routes.md, so the documentation
// cannot drift from what the router, the role checks and the audit log use.
func RouteDoc(routes []Route) string {
	var b strings.Builder
	b.WriteString("# Routes\n\n")
	b.WriteString("<!-- Generated from the route table in handlers/routes.go by\n")
	b.WriteString("     go test ./handlers -run TestRoutesDoc -update\n")
	b.WriteString("     Edit the table, not this file. -->\n\n")
	b.WriteString("Every route the dashboard serves, who may call it, and the action its\n")
	b.WriteString("changes are called in the audit log. Access levels: `probe` (anyone, any\n")
	b.WriteString("Host name), `public` (anyone, no identity read), `any-role` (anyone; the\n")
	b.WriteString("identity is read when present, CSRF and audit apply), `viewer` (viewer or\n")
	b.WriteString("admin role), `admin` (admin role). Requests to routes not listed here need\n")
	b.WriteString("the viewer role to read and the admin role for anything else.\n\n")
	b.WriteString("| Method | Path | Access | Audit action | What it does |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range routes {
		doc := r.Doc
		if r.OIDCOnly {
			doc += " (`AUTH_MODE=oidc` only)"
		}
		audit := ""
		if r.Audit != "" {
			audit = "`" + r.Audit + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", r.Method, r.Path, r.Access, audit, strings.ReplaceAll(doc, "|", `\|`))
	}
	return b.String()
}
