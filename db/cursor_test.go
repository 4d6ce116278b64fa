package db

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	for _, c := range []struct {
		gen authprovider.Provider
		pos position
	}{
		{authprovider.Stack, position{created: &at, id: "user_alice"}},
		{authprovider.Stack, position{id: "undated ' \\ % _ ✓"}},
		{authprovider.Stack, position{created: &at, id: strings.Repeat("x", maxCursorIDLen)}},
		{authprovider.BetterAuth, position{created: &at, id: "00000000-0000-4000-8000-00000000000a"}},
	} {
		s := encodeCursor(c.gen, c.pos)
		got, err := decodeCursor(c.gen, "cursor", s)
		if err != nil {
			t.Fatalf("decode(%s %q): %v", c.gen, s, err)
		}
		if got.id != c.pos.id || (got.created == nil) != (c.pos.created == nil) ||
			(got.created != nil && !got.created.Equal(*c.pos.created)) {
			t.Errorf("round trip of %+v gave %+v", c.pos, got)
		}
	}
}

func TestCursorRejectsMalformed(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good := encodeCursor(authprovider.Stack, position{created: &at, id: "user_a"})
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	mutate := func(f func([]byte) []byte) string {
		b := f(append([]byte(nil), raw...))
		return base64.RawURLEncoding.EncodeToString(b)
	}
	cases := map[string]struct {
		gen authprovider.Provider
		s   string
	}{
		"empty":           {authprovider.Stack, "="},
		"not base64":      {authprovider.Stack, "!!!!"},
		"padded base64":   {authprovider.Stack, good + "=="},
		"too short":       {authprovider.Stack, mutate(func(b []byte) []byte { return b[:cursorHeader] })},
		"bad version":     {authprovider.Stack, mutate(func(b []byte) []byte { b[0] = 9; return b })},
		"other table":     {authprovider.BetterAuth, good},
		"bad flags":       {authprovider.Stack, mutate(func(b []byte) []byte { b[2] = 7; return b })},
		"undated w/ time": {authprovider.Stack, mutate(func(b []byte) []byte { b[2] = cursorUndated; return b })},
		"time too late":   {authprovider.Stack, mutate(func(b []byte) []byte { b[3] = 0x7f; return b })},
		"time too early":  {authprovider.Stack, mutate(func(b []byte) []byte { b[3] = 0x80; return b })},
		"NUL in id":       {authprovider.Stack, mutate(func(b []byte) []byte { return append(b, 0) })},
		"invalid UTF-8":   {authprovider.Stack, mutate(func(b []byte) []byte { return append(b, 0xff, 0xfe) })},
		"id too long":     {authprovider.Stack, mutate(func(b []byte) []byte { return append(b, strings.Repeat("y", maxCursorIDLen)...) })},
		"10 KB":           {authprovider.Stack, strings.Repeat("A", 10<<10)},
		"uuid too short": {authprovider.BetterAuth, base64.RawURLEncoding.EncodeToString(
			append([]byte{cursorVersion, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1, 2, 3))},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeCursor(c.gen, "cursor", c.s)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "cursor" || !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("decode = %v, want an InputError on cursor", err)
			}
			if len(ie.Error()) > 200 {
				t.Errorf("error text is %d bytes; it must not echo the input", len(ie.Error()))
			}
		})
	}
}
