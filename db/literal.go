package db

import (
	"strings"
)

// quoteLiteral renders s as an SQL string literal, for the statements that
// cannot take bind parameters (COPY). It always uses the E” form with
// backslashes doubled, as libpq's PQescapeLiteral does when it meets one, so
// the result means the same whatever standard_conforming_strings is set to.
// Values Postgres text cannot hold are refused by checkText before this is
// called; quoteLiteral refuses them again rather than produce a literal the
// server would reject or cut short.
func quoteLiteral(s string) (string, error) {
	if err := checkText("value", s, 1<<20); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	b.WriteString("E'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// likeContains returns the ILIKE pattern that matches s anywhere, with the
// pattern characters of s (%, _ and the escape character \) escaped so they
// match themselves.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
