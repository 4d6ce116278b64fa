// Package routetest helps tests walk the dashboard's route table.
package routetest

import "strings"

// ConcretePath fills a route pattern's parameters with sample values:
// :provider becomes "stack", any other :name becomes "sample-name".
func ConcretePath(pattern string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			switch p {
			case ":provider":
				parts[i] = "stack"
			default:
				parts[i] = "sample-" + strings.TrimPrefix(p, ":")
			}
		}
	}
	return strings.Join(parts, "/")
}
