package specvalidate

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// MinimalRequest builds the smallest request the document allows for op, the
// way a client generated from the document would send it with nothing but
// its required inputs: the path with every path parameter filled in, the
// required query parameters, and, when the body is required, a JSON body
// holding only the required properties, recursively. An optional body is
// left out.
//
// values supplies what the document cannot: the ids of objects that exist
// (project_id, database_name), and values for properties the document types
// too loosely to generate a meaningful one (a sender_email it types as a plain
// string). They are looked up by parameter or property name. Everything else
// is generated from the schema alone, never from its examples: the first enum
// value, a value of the string's format, the minimum of a number, false, the
// fewest array items allowed; a oneOf takes its first alternative with its
// discriminator set.
func (s *Spec) MinimalRequest(op Operation, values map[string]any) (path string, body []byte, err error) {
	path = op.Path
	q := url.Values{}
	for _, ref := range op.params {
		p := ref.Value
		if p == nil || (p.In != openapi3.ParameterInPath && !(p.In == openapi3.ParameterInQuery && p.Required)) {
			continue
		}
		v, err := minimalValue(p.Schema, p.Name, values)
		if err != nil {
			return "", nil, fmt.Errorf("%s: parameter %s: %w", op.ID, p.Name, err)
		}
		text := fmt.Sprint(v)
		if p.In == openapi3.ParameterInPath {
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(text))
		} else {
			q.Set(p.Name, text)
		}
	}
	if strings.Contains(path, "{") {
		return "", nil, fmt.Errorf("%s: path %s has a parameter the document does not describe", op.ID, path)
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	rb := op.op.RequestBody
	if rb == nil || rb.Value == nil || !rb.Value.Required {
		return path, nil, nil
	}
	media := rb.Value.Content.Get("application/json")
	if media == nil {
		return "", nil, fmt.Errorf("%s: the body is not JSON", op.ID)
	}
	v, err := minimalValue(media.Schema, "", values)
	if err != nil {
		return "", nil, fmt.Errorf("%s: body: %w", op.ID, err)
	}
	body, err = json.Marshal(v)
	return path, body, err
}

// minimalValue generates the smallest valid value of ref; name is the
// property or parameter it is for, "" for a body.
func minimalValue(ref *openapi3.SchemaRef, name string, values map[string]any) (any, error) {
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("%s has no schema", name)
	}
	sc := ref.Value
	if v, ok := values[name]; ok && name != "" && !sc.Type.Is("object") {
		return v, nil
	}
	switch {
	case len(sc.OneOf) > 0:
		return minimalOneOf(sc, name, values)
	case len(sc.AllOf) > 0:
		merged := map[string]any{}
		for _, part := range sc.AllOf {
			v, err := minimalValue(part, name, values)
			if err != nil {
				return nil, err
			}
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: allOf of a non-object", name)
			}
			maps.Copy(merged, obj)
		}
		return merged, nil
	case len(sc.Enum) > 0:
		return sc.Enum[0], nil
	case sc.Type.Is("object") || len(sc.Properties) > 0:
		obj := map[string]any{}
		for _, prop := range slices.Sorted(slices.Values(sc.Required)) {
			v, err := minimalValue(sc.Properties[prop], prop, values)
			if err != nil {
				return nil, err
			}
			obj[prop] = v
		}
		return obj, nil
	case sc.Type.Is("array"):
		items := []any{}
		for range sc.MinItems {
			v, err := minimalValue(sc.Items, name, values)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		return items, nil
	case sc.Type.Is("integer"), sc.Type.Is("number"):
		n := 1.0
		if sc.Min != nil {
			n = *sc.Min
		}
		if sc.Max != nil && n > *sc.Max {
			n = *sc.Max
		}
		return n, nil
	case sc.Type.Is("boolean"):
		return false, nil
	case sc.Type.Is("string"):
		return minimalString(sc, name)
	}
	return nil, fmt.Errorf("%s: cannot generate a value of type %v", name, sc.Type)
}

// minimalOneOf takes the first alternative, setting the discriminator to the
// name the mapping gives that alternative.
func minimalOneOf(sc *openapi3.Schema, name string, values map[string]any) (any, error) {
	first := sc.OneOf[0]
	v, err := minimalValue(first, name, values)
	if err != nil || sc.Discriminator == nil {
		return v, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: discriminator on a non-object", name)
	}
	for key, m := range sc.Discriminator.Mapping {
		if m.Ref == first.Ref {
			obj[sc.Discriminator.PropertyName] = key
			return obj, nil
		}
	}
	return nil, fmt.Errorf("%s: the discriminator maps no name to %s", name, first.Ref)
}

// minimalString generates a string of the schema's format and length.
func minimalString(sc *openapi3.Schema, name string) (string, error) {
	if sc.Pattern != "" {
		return "", fmt.Errorf("%s: a value matching %s must be given", name, sc.Pattern)
	}
	switch sc.Format {
	case "email":
		return "user@example.com", nil
	case "uri":
		return "https://example.com", nil
	case "date-time":
		return "2026-01-01T00:00:00Z", nil
	case "uuid":
		return "00000000-0000-4000-8000-000000000000", nil
	}
	return strings.Repeat("x", max(1, int(sc.MinLength))), nil
}
