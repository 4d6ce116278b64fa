package views

import (
	"strings"
	"testing"
)

func TestAuthProblemPanel(t *testing.T) {
	for _, tc := range []struct {
		name       string
		p          AuthProblem
		signedInAs string
		contact    string
		hint       bool // the generic "ask whoever runs this dashboard" line
		action     string
	}{
		{
			name:       "forbidden with contact",
			p:          AuthProblem{Title: "No access", Message: "m", SignedInAs: "olga@elsewhere.test", Role: "", Contact: "#platform-team", TestID: "forbidden"},
			signedInAs: "olga@elsewhere.test", contact: "#platform-team",
		},
		{
			name:       "viewer without contact",
			p:          AuthProblem{Title: "Viewers can't", Message: "m", SignedInAs: "vic@example.com", Role: "viewer", TestID: "viewer"},
			signedInAs: "vic@example.com", hint: true,
		},
		{
			name:   "nobody signed in, with a sign-in button",
			p:      AuthProblem{Title: "Sign-in required", Message: "m", ActionURL: "/auth/login", ActionLabel: "Sign in", TestID: "unauthenticated"},
			action: "/auth/login",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, AuthProblemPanel(tc.p))
			panel := doc.Find(`[data-testid="` + tc.p.TestID + `"]`)
			if panel.Length() != 1 || panel.AttrOr("role", "") != "alert" {
				t.Fatalf("no alert panel with data-testid %q", tc.p.TestID)
			}
			if got := doc.Find(`[data-testid="auth-problem-title"]`).Text(); got != tc.p.Title {
				t.Errorf("title %q", got)
			}
			if got := doc.Find(`[data-testid="signed-in-as"]`).Text(); got != tc.signedInAs {
				t.Errorf("signed in as %q, want %q", got, tc.signedInAs)
			}
			if got := doc.Find(`[data-testid="signed-in-role"]`).Text(); got != tc.p.Role {
				t.Errorf("role %q, want %q", got, tc.p.Role)
			}
			if got := doc.Find(`[data-testid="auth-contact"]`).Text(); got != tc.contact {
				t.Errorf("contact %q, want %q", got, tc.contact)
			}
			if got := strings.Contains(doc.Text(), "whoever runs this dashboard"); got != tc.hint {
				t.Errorf("generic hint shown=%v, want %v", got, tc.hint)
			}
			if got := doc.Find(`[data-testid="auth-action"]`).AttrOr("href", ""); got != tc.action {
				t.Errorf("action %q, want %q", got, tc.action)
			}
		})
	}
}

func TestAuthPagesEscapeWhatTheyAreGiven(t *testing.T) {
	p := AuthProblem{Title: "t", Message: "m", SignedInAs: `<script>alert(1)</script>`, Contact: `<img src=x onerror=alert(1)>`, TestID: "forbidden"}
	doc, html := renderDoc(t, AuthProblemPage(Chrome{Title: "t", CSRFToken: "tok"}, p))
	if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
		t.Errorf("identity or contact rendered as markup:\n%s", html)
	}
	if doc.Find("script:not([src])").Length() != 0 {
		t.Error("inline script in the page")
	}
	if got := doc.Find(`meta[name="csrf-token"]`).AttrOr("content", ""); got != "tok" {
		t.Errorf("csrf meta %q", got)
	}
	doc, _ = renderDoc(t, SignedOutPage(Chrome{Title: "Signed out"}, "/auth/login"))
	if doc.Find(`[data-testid="signed-out"]`).Length() != 1 || doc.Find(`[data-testid="sign-in-again"]`).AttrOr("href", "") != "/auth/login" {
		t.Error("signed-out page lacks its panel or sign-in link")
	}
}

// TestAuthProblemHeading checks the refusal's title is the page's h1 on a
// full page and no heading inside a panel, named for the alert either way.
func TestAuthProblemHeading(t *testing.T) {
	p := AuthProblem{Title: "Viewers can't change things", Message: "m", TestID: "viewer"}
	page, _ := renderDoc(t, AuthProblemPage(Chrome{}, p))
	if got := page.Find("h1#auth-problem-title").Text(); got != p.Title {
		t.Errorf("page h1 = %q, want the title", got)
	}
	panel, _ := renderDoc(t, AuthProblemPanel(p))
	if panel.Find("h1").Length() != 0 || panel.Find(`[role="alert"][aria-labelledby="auth-problem-title"]`).Length() != 1 {
		t.Error("the in-place panel has an h1 or an unnamed alert")
	}
}
