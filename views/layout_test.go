package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func byID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func TestLayoutChrome(t *testing.T) {
	cases := []struct {
		name      string
		ch        Chrome
		anonymous bool
		demo      bool
		crumbs    bool
	}{
		{"signed in", Chrome{Title: "Projects", User: "ada", Role: "admin", CSRFToken: "tok-1"}, false, false, false},
		{"anonymous demo with crumbs", Chrome{Title: "demo-app", User: "nobody", Anonymous: true, Demo: true, CSRFToken: "tok-2",
			Crumbs: []Crumb{{Label: "Projects", Href: "/projects"}, {Label: "demo-app"}}}, true, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, html := renderDoc(t, Layout(tc.ch))
			if got, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content"); got != tc.ch.CSRFToken {
				t.Errorf("csrf meta = %q, want %q", got, tc.ch.CSRFToken)
			}
			if got := doc.Find("title").Text(); !strings.HasPrefix(got, tc.ch.Title) || !strings.HasSuffix(got, "Neon Auth admin") {
				t.Errorf("title = %q", got)
			}
			if got := byID(doc, "anonymous-banner").Length() == 1; got != tc.anonymous {
				t.Errorf("anonymous banner shown = %t, want %t", got, tc.anonymous)
			}
			if got := byID(doc, "demo-badge").Length() == 1; got != tc.demo {
				t.Errorf("demo badge shown = %t, want %t", got, tc.demo)
			}
			if got := byID(doc, "breadcrumbs").Length() == 1; got != tc.crumbs {
				t.Errorf("breadcrumbs shown = %t, want %t", got, tc.crumbs)
			}
			if !strings.Contains(byID(doc, "identity").Text(), tc.ch.User) {
				t.Errorf("identity = %q", byID(doc, "identity").Text())
			}
			// The CSP forbids inline code and styles: every script has a src,
			// nothing carries style= or on*= attributes.
			doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				if src, ok := s.Attr("src"); !ok || !strings.HasPrefix(src, "/static/") || strings.TrimSpace(s.Text()) != "" {
					t.Errorf("inline or foreign script: %q", src)
				}
			})
			if strings.Contains(html, " style=") || strings.Contains(html, " onclick=") {
				t.Error("inline style or handler attribute in the layout")
			}
		})
	}
}

func TestLayoutAssetsAreHashed(t *testing.T) {
	doc, _ := renderDoc(t, Layout(Chrome{}))
	var urls []string
	doc.Find(`link[rel="stylesheet"]`).Each(func(_ int, s *goquery.Selection) { urls = append(urls, s.AttrOr("href", "")) })
	doc.Find("script").Each(func(_ int, s *goquery.Selection) { urls = append(urls, s.AttrOr("src", "")) })
	if len(urls) != 4 {
		t.Fatalf("asset urls = %v, want pico, app.css, htmx, app.js", urls)
	}
	for _, u := range urls {
		// name.<12 hex>.ext
		parts := strings.Split(u[strings.LastIndex(u, "/")+1:], ".")
		if len(parts) < 3 || len(parts[len(parts)-2]) != 12 {
			t.Errorf("asset %q is not content-hashed", u)
		}
	}
}

func TestFlashesAndErrorBox(t *testing.T) {
	doc, _ := renderDoc(t, Layout(Chrome{Flashes: []Flash{{Kind: "success", Message: "Done."}, {Kind: "error", Message: "Oops."}}}))
	flashes := byID(doc, "flash")
	if flashes.Length() != 2 || flashes.First().Text() != "Done." || !flashes.Last().HasClass("error") {
		t.Errorf("flashes = %d %q", flashes.Length(), flashes.Text())
	}

	doc, _ = renderDoc(t, ErrorPage(Chrome{}, Problem{Title: "Neon could not find that", Message: "project not found", RequestID: "req-42", Status: 404}))
	if got := strings.TrimSpace(byID(doc, "request-id").Text()); got != "req-42" {
		t.Errorf("request id = %q", got)
	}
	if got := byID(doc, "api-error-message").Text(); got != "project not found" {
		t.Errorf("message = %q", got)
	}
	if !strings.Contains(byID(doc, "error-page").Text(), "Not found") {
		t.Errorf("status line missing: %q", byID(doc, "error-page").Text())
	}

	doc, _ = renderDoc(t, ErrorFragment(Problem{Title: "Something went wrong", Status: 500}))
	if byID(doc, "request-id").Length() != 0 {
		t.Error("a problem without request id shows an empty one")
	}
}

func TestFieldErrorMarksTheField(t *testing.T) {
	doc, _ := renderDoc(t, DeleteFormView(DeleteForm{ProjectID: "p-1", ProjectName: "demo-app", Provider: "stack", Typed: "demo", Err: "Type the name.", DeleteData: true, CSRFToken: "tok"}))
	input := byID(doc, "confirm-name")
	if v, _ := input.Attr("value"); v != "demo" {
		t.Errorf("typed value = %q", v)
	}
	if inv, _ := input.Attr("aria-invalid"); inv != "true" {
		t.Errorf("aria-invalid = %q", inv)
	}
	if by, _ := input.Attr("aria-describedby"); by != "err-confirm_name-stack" {
		t.Errorf("aria-describedby = %q", by)
	}
	if got := doc.Find("#err-confirm_name-stack").Text(); got != "Type the name." {
		t.Errorf("error text = %q", got)
	}
	if _, ok := byID(doc, "delete-data").Attr("checked"); !ok {
		t.Error("delete_data not kept")
	}
	if v, _ := doc.Find(`input[name="_csrf"]`).Attr("value"); v != "tok" {
		t.Errorf("csrf field = %q", v)
	}
}

func TestLayoutSignOut(t *testing.T) {
	cases := []struct {
		name string
		ch   Chrome
		want string // "form", "a" or "" for none
	}{
		{"own session", Chrome{User: "ada", CSRFToken: "tok", SignOutURL: "/auth/logout", SignOutPost: true}, "form"},
		{"proxy's page", Chrome{User: "ada", SignOutURL: "https://sso.example.com/oauth2/sign_out"}, "a"},
		{"nothing to sign out of", Chrome{User: "nobody", Anonymous: true}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, Layout(tc.ch))
			control := byID(doc, "sign-out")
			if tc.want == "" {
				if control.Length() != 0 {
					t.Error("sign-out control shown")
				}
				return
			}
			if control.Length() != 1 || goquery.NodeName(control) != tc.want {
				t.Fatalf("sign-out control: %d × <%s>, want one <%s>", control.Length(), goquery.NodeName(control), tc.want)
			}
			if control.Closest("header").Find(`[data-testid="identity"]`).Length() != 1 {
				t.Error("sign-out control is not in the header beside the identity")
			}
			switch tc.want {
			case "form":
				if control.AttrOr("method", "") != "post" || control.AttrOr("action", "") != tc.ch.SignOutURL ||
					control.Find(`input[name="_csrf"]`).AttrOr("value", "") != tc.ch.CSRFToken {
					t.Error("sign-out form does not post the CSRF token to the sign-out URL")
				}
			case "a":
				if control.AttrOr("href", "") != tc.ch.SignOutURL {
					t.Errorf("sign-out link = %q", control.AttrOr("href", ""))
				}
			}
		})
	}
}
