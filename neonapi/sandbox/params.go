package sandbox

import (
	"net/url"
	"strconv"
	"unicode/utf8"
)

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(q url.Values, name string, lo, hi, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// queryBool parses an optional boolean query parameter.
func queryBool(q url.Values, name string) (bool, error) {
	switch q.Get(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, badRequest("%s must be true or false", name)
}

// checkLen validates an optional string's length in characters.
func checkLen(v *string, field string, lo, hi int) error {
	if v == nil {
		return nil
	}
	if n := utf8.RuneCountInString(*v); n < lo || n > hi {
		return badRequest("%s must be %d to %d characters long", field, lo, hi)
	}
	return nil
}

func deref(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// parsePort parses a decimal TCP port, 0 to 65535.
func parsePort(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}
