package views

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// TestTemplatesNameProvidersThroughTheType: the templates say what a provider
// is and does through authprovider.Provider's methods, never by spelling its API
// value, so the two generations are told apart in one place.
func TestTemplatesNameProvidersThroughTheType(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	var spelled []*regexp.Regexp
	for _, p := range append(authprovider.All, "mock") {
		spelled = append(spelled, regexp.MustCompile(`["'`+"`"+`]`+regexp.QuoteMeta(string(p))+`["'`+"`"+`]`))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range spelled {
			if loc := re.FindIndex(src); loc != nil {
				t.Errorf("%s spells a provider: %s", f, src[loc[0]:loc[1]])
			}
		}
	}
}

// TestProviderWordsFollowTheType: what the pages call a provider comes from
// its methods.
func TestProviderWordsFollowTheType(t *testing.T) {
	doc, _ := renderDoc(t, EnableFormView(EnableForm{ProjectID: "p-1", Provider: authprovider.BetterAuth}))
	opts := doc.Find(`select[name="provider"] option`)
	if opts.Length() != len(authprovider.All) {
		t.Fatalf("provider options = %d, want %d", opts.Length(), len(authprovider.All))
	}
	for i, p := range authprovider.All {
		o := opts.Eq(i)
		if v, _ := o.Attr("value"); v != string(p) || o.Text() != p.Label() {
			t.Errorf("option %d = %q %q, want %q %q", i, v, o.Text(), p, p.Label())
		}
		if _, sel := o.Attr("selected"); sel != (p == authprovider.BetterAuth) {
			t.Errorf("option %s selected = %v", p, sel)
		}
	}
	card, _ := renderDoc(t, IntegrationsPanelView(IntegrationsPanel{ProjectID: "p-1", Cards: []IntegrationCard{{ProjectID: "p-1", Provider: authprovider.Stack}}}))
	if got := card.Find(`[data-testid="card-provider"]`).Text(); got != authprovider.Stack.Label() {
		t.Errorf("card names %q, want %q", got, authprovider.Stack.Label())
	}
}
