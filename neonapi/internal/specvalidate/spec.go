// Package specvalidate checks HTTP traffic against Neon's published OpenAPI
// document, so that tests can show the client sends only requests Neon accepts
// and the sandbox answers only the way Neon documents.
package specvalidate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Spec is a loaded, validated OpenAPI document with a router for one server.
type Spec struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// Load reads the OpenAPI document at path, checks that it is a valid OpenAPI
// document, and routes requests addressed to baseURL (for example a test
// sandbox's "http://127.0.0.1:41234/api/v2") instead of Neon's own servers.
func Load(path, baseURL string) (*Spec, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("specvalidate: base URL %q is not absolute", baseURL)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("specvalidate: load %s: %w", path, err)
	}
	// No validation is switched off: the only accommodation is a regular
	// expression engine that understands the one upstream pattern RE2 cannot
	// compile (see compilePattern).
	if err := doc.Validate(loader.Context, openapi3.SetRegexCompiler(compilePattern)); err != nil {
		return nil, fmt.Errorf("specvalidate: %s is not a valid OpenAPI document: %w", path, err)
	}
	defineFormats(doc)
	doc.Servers = openapi3.Servers{{URL: strings.TrimRight(baseURL, "/")}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("specvalidate: router: %w", err)
	}
	opts := &openapi3filter.Options{
		// A body on an operation that takes none (DELETE of a user, say) is
		// something Neon does not promise to accept.
		RejectWhenRequestBodyNotSpecified: true,
		// Every status must be documented; the operations in use all list
		// `default`, so this only bites if the spec itself changes.
		IncludeResponseStatus: true,
		// Report every violation, not the first: a negative test must be able
		// to tell that its request breaks the spec in exactly one way.
		MultiError:              true,
		AuthenticationFunc:      bearerOnly,
		RegexCompiler:           compilePattern,
		SchemaValidationOptions: doc.GetSchemaValidationOptions(),
	}
	// Errors name the JSON pointer and the reason, not a dump of the schema.
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return fmt.Sprintf("/%s: %s", strings.Join(err.JSONPointer(), "/"), err.Reason)
	})
	return &Spec{doc: doc, router: router, opts: opts}, nil
}

// Operation is one operation of the document.
type Operation struct {
	ID     string
	Method string // upper case
	Path   string // as the document writes it, "/projects/{project_id}"
	Tags   []string
	op     *openapi3.Operation
	params openapi3.Parameters // the path item's and the operation's
}

// Operations returns every operation of the document, sorted by path and
// method.
func (s *Spec) Operations() []Operation {
	var ops []Operation
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			params := slices.Clone(item.Parameters)
			params = append(params, op.Parameters...)
			ops = append(ops, Operation{ID: op.OperationID, Method: method, Path: path, Tags: op.Tags, op: op, params: params})
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method))
	})
	return ops
}

// OperationIDs returns every operationId the document defines, sorted.
func (s *Spec) OperationIDs() []string {
	var ids []string
	for _, item := range s.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID != "" {
				ids = append(ids, op.OperationID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// HasOperation reports whether the document defines operationID.
func (s *Spec) HasOperation(operationID string) bool {
	_, found := slices.BinarySearch(s.OperationIDs(), operationID)
	return found
}

// bearerOnly accepts the BearerAuth scheme when a non-empty bearer token is
// present, and refuses the cookie schemes the API also lists: the client
// authenticates with API keys only.
func bearerOnly(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return in.NewError(fmt.Errorf("security scheme %q is not used by API-key clients", in.SecuritySchemeName))
	}
	auth := in.RequestValidationInput.Request.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("no bearer token in the Authorization header"))
	}
	return nil
}

// defineFormats makes the formats the document uses actually checked: without
// a validator kin-openapi accepts any string for "email", "uuid" or "uri". The
// validators are scoped to this document, not registered globally.
func defineFormats(doc *openapi3.T) {
	doc.SetStringFormatValidator("email", openapi3.NewCallbackValidator(func(v string) error {
		addr, err := mail.ParseAddress(v)
		if err != nil {
			return fmt.Errorf("not an email address: %w", err)
		}
		if addr.Address != v {
			return errors.New("not a bare email address")
		}
		return nil
	}))
	doc.SetStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
	doc.SetStringFormatValidator("uri", openapi3.NewCallbackValidator(func(v string) error {
		u, err := url.Parse(v)
		if err != nil {
			return err
		}
		if !u.IsAbs() {
			return errors.New("not an absolute URI")
		}
		return nil
	}))
	doc.SetIntegerFormatValidator("uint64", openapi3.NewRangeFormatValidator(0, int64(math.MaxInt64)))
}

// projectIDListPattern is the one pattern in the document that Go's RE2 engine
// refuses: its nested repetition ({1,60} inside {0,99}) exceeds RE2's limit of
// 1000 repetitions. It guards the project_ids query parameter of the
// consumption_history operations.
const projectIDListPattern = `^([a-z0-9-]{1,60}(,[a-z0-9-]{1,60}){0,99})?$`

var projectIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,60}$`)

// compilePattern compiles patterns with RE2 and matches projectIDListPattern
// by hand, so that every pattern in the document is still enforced.
func compilePattern(expr string) (openapi3.RegexMatcher, error) {
	if expr == projectIDListPattern {
		return projectIDList{}, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return re, nil
}

// projectIDList matches projectIDListPattern: empty, or 1 to 100 project ids
// separated by commas.
type projectIDList struct{}

func (projectIDList) MatchString(s string) bool {
	if s == "" {
		return true
	}
	ids := strings.Split(s, ",")
	if len(ids) > 100 {
		return false
	}
	for _, id := range ids {
		if !projectIDPattern.MatchString(id) {
			return false
		}
	}
	return true
}
