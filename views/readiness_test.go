package views

import (
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonauth"
)

// TestReadinessBadge: the badge says its verdict in words and numbers, not
// only in colour, and carries the verdict for tests and styles.
func TestReadinessBadge(t *testing.T) {
	for _, tc := range []struct {
		sum   neonauth.ReadinessSummary
		class string
		words []string
	}{
		{neonauth.ReadinessSummary{Status: neonauth.StatusRed, Red: 2, Amber: 1, Info: 1}, "danger", []string{"Not ready", "2 blocking", "1 needing attention", "1 optional"}},
		{neonauth.ReadinessSummary{Status: neonauth.StatusAmber, Amber: 1, Green: 5}, "warn", []string{"Needs attention", "5 ready"}},
		{neonauth.ReadinessSummary{Status: neonauth.StatusGreen, Green: 5, Info: 1}, "ok", []string{"Ready", "5 ready", "1 optional"}},
	} {
		doc, _ := renderDoc(t, ReadinessBadge(tc.sum))
		b := doc.Find(`[data-testid="readiness-badge"]`)
		if st, _ := b.Attr("data-status"); st != string(tc.sum.Status) || !b.HasClass(tc.class) {
			t.Errorf("%s badge: data-status %q, class %q", tc.sum.Status, st, b.AttrOr("class", ""))
		}
		for _, w := range tc.words {
			if !strings.Contains(b.Text(), w) {
				t.Errorf("%s badge text %q lacks %q", tc.sum.Status, b.Text(), w)
			}
		}
	}
}

// TestReadinessLinksEscapeIDs: ids in the links built here are path-escaped.
func TestReadinessLinksEscapeIDs(t *testing.T) {
	if got := ReadinessURL("p-1", "br a"); got != "/projects/p-1/branches/br%20a/auth/readiness" {
		t.Errorf("ReadinessURL = %q", got)
	}
	if got := CompareURL("p-1", "br-a", ""); got != "/projects/p-1/auth/compare?a=br-a" {
		t.Errorf("CompareURL = %q", got)
	}
}
