package neonapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// An answer type names what the dashboard relies on with a neon struct tag
// beside the json one; do checks every successful answer against it, so that
// a 200 with fields missing is an error rather than a zero value:
//
//	neon:"required"     the member is present and not null; a string is not empty
//	neon:"id"           a string member, when present, is an id (see ValidID)
//	neon:"url"          a string member, when present, is an absolute http(s) URL
//
// Options combine ("required,id"). A struct, pointer to struct or slice of
// structs is checked member by member wherever the answer carries it. A call
// may require more top-level members than its type does (call.required), when
// what it needs depends on the request.

// ErrIncompleteAnswer marks a successful answer that lacks a member the
// dashboard relies on, or carries one it cannot use (an id with a slash). It
// also matches ErrInvalidResponse: such an answer is no more usable than one
// that cannot be decoded.
var ErrIncompleteAnswer = errors.New("neonapi: incomplete answer")

// IncompleteAnswerError is ErrIncompleteAnswer with what was wrong. It comes
// wrapped in a *RequestError, which carries the request id.
type IncompleteAnswerError struct {
	// Missing are the members absent, null or empty, as paths such as
	// "projects" or "projects[3].id".
	Missing []string
	// Invalid are the members present but unusable, as paths.
	Invalid []string
}

// Error lists the members at fault.
func (e *IncompleteAnswerError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+strings.Join(e.Missing, ", "))
	}
	if len(e.Invalid) > 0 {
		parts = append(parts, "invalid "+strings.Join(e.Invalid, ", "))
	}
	return "incomplete answer: " + strings.Join(parts, "; ")
}

// Is matches ErrIncompleteAnswer and ErrInvalidResponse.
func (e *IncompleteAnswerError) Is(target error) bool {
	return target == ErrIncompleteAnswer || target == ErrInvalidResponse
}

// Fields are the members at fault, missing first, for a sentence.
func (e *IncompleteAnswerError) Fields() []string {
	return append(append([]string(nil), e.Missing...), e.Invalid...)
}

// idPattern is what an id Neon returns may look like before the dashboard
// puts it in a URL path or a message: project and branch ids, UUIDs, and the
// random ids Better Auth gives users. No dots or slashes, so no "..".
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// ValidID reports whether id is safe to use as one path segment and to show:
// 1 to 128 letters, digits, '-' or '_', starting with a letter or digit.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// maxFaults bounds the members an IncompleteAnswerError lists.
const maxFaults = 8

// rule is one tagged member of an answer type.
type rule struct {
	name     string
	required bool
	id, url  bool
	// sub checks the member's object, or each element of its array.
	sub *shape
}

// shape is the rules of one struct type; nil when it has none.
type shape struct{ rules []rule }

var shapes sync.Map // reflect.Type -> *shape

var timeType = reflect.TypeFor[time.Time]()

// shapeOf returns the rules of t, a struct type, building them once.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s := buildShape(t, map[reflect.Type]bool{})
	shapes.Store(t, s)
	return s
}

func buildShape(t reflect.Type, seen map[reflect.Type]bool) *shape {
	if seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var s shape
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			if ft := deref(f.Type); ft.Kind() == reflect.Struct {
				if sub := buildShape(ft, seen); sub != nil {
					s.rules = append(s.rules, sub.rules...)
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		r := rule{name: name}
		for opt := range strings.SplitSeq(f.Tag.Get("neon"), ",") {
			switch opt {
			case "required":
				r.required = true
			case "id":
				r.id = true
			case "url":
				r.url = true
			}
		}
		ft := deref(f.Type)
		if ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array {
			ft = deref(ft.Elem())
		}
		if ft.Kind() == reflect.Struct && ft != timeType {
			r.sub = buildShape(ft, seen)
		}
		if r.required || r.id || r.url || r.sub != nil {
			s.rules = append(s.rules, r)
		}
	}
	if len(s.rules) == 0 {
		return nil
	}
	return &s
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// checkAnswer checks data, already decoded into out without error, against
// the rules of out's type and the top-level members extra names as required
// too; nil when they hold or there are none.
func checkAnswer(data []byte, out any, extra []string) *IncompleteAnswerError {
	t := deref(reflect.TypeOf(out))
	if t.Kind() != reflect.Struct {
		return nil
	}
	s := shapeOf(t).with(extra)
	if s == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		// It decoded into out, so it is JSON; a second look cannot fail.
		return &IncompleteAnswerError{Invalid: []string{"the answer"}}
	}
	var e IncompleteAnswerError
	s.check(v, "", &e)
	if len(e.Missing) == 0 && len(e.Invalid) == 0 {
		return nil
	}
	return &e
}

// with returns s with the top-level members names required as well.
func (s *shape) with(names []string) *shape {
	if len(names) == 0 {
		return s
	}
	var out shape
	if s != nil {
		out.rules = slices.Clone(s.rules)
	}
	for _, n := range names {
		i := slices.IndexFunc(out.rules, func(r rule) bool { return r.name == n })
		if i < 0 {
			out.rules = append(out.rules, rule{name: n, required: true})
		} else {
			out.rules[i].required = true
		}
	}
	return &out
}

func (s *shape) check(v any, path string, e *IncompleteAnswerError) {
	obj, _ := v.(map[string]any) // null or not an object: every required member is missing
	for _, r := range s.rules {
		p := path + r.name
		val, ok := obj[r.name]
		if !ok || val == nil {
			if r.required {
				e.add(&e.Missing, p)
			}
			continue
		}
		if str, isStr := val.(string); isStr {
			switch {
			case str == "" && r.required:
				e.add(&e.Missing, p)
			case str == "":
			case r.id && !ValidID(str), r.url && !httpURL(str):
				e.add(&e.Invalid, p)
			}
			continue
		}
		if r.sub == nil {
			continue
		}
		switch val := val.(type) {
		case map[string]any:
			r.sub.check(val, p+".", e)
		case []any:
			for i, el := range val {
				r.sub.check(el, fmt.Sprintf("%s[%d].", p, i), e)
			}
		}
	}
}

func (e *IncompleteAnswerError) add(list *[]string, path string) {
	if len(e.Missing)+len(e.Invalid) < maxFaults {
		*list = append(*list, path)
	}
}

// httpURL reports whether s is an absolute http or https URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}
