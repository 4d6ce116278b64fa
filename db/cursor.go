package db

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// position is a row's place in the browse order: created_at DESC NULLS LAST,
// id DESC. A nil created marks an undated users_sync row, whose raw_json
// lacks signed_up_at_millis; those sort after every dated row.
type position struct {
	created *time.Time
	id      string
}

// Cursor layout, before base64url: version, generation, flags, created_at as
// microseconds since the Unix epoch (big-endian int64, zero when undated),
// then the id (raw text for users_sync, the 16 uuid bytes for better_auth).
// It is opaque to callers but not secret: it only names a place in a list
// the caller may read anyway, so it is validated rather than signed.
const (
	cursorVersion  = 1
	cursorHeader   = 3 + 8
	cursorUndated  = 1
	maxCursorIDLen = 512
	maxCursorLen   = 2 * (cursorHeader + maxCursorIDLen) // base64 bound, generous
)

// The timestamps a cursor may carry: years 1 to 9999, which pgx can send as
// text and every real signup time lies within.
var (
	minCursorTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() - 1
)

func generationByte(g authprovider.Provider) byte {
	switch g {
	case authprovider.Stack:
		return 1
	case authprovider.BetterAuth:
		return 2
	}
	return 0
}

// encodeCursor returns the opaque cursor for p in a table of generation g.
func encodeCursor(g authprovider.Provider, p position) string {
	buf := make([]byte, cursorHeader, cursorHeader+len(p.id))
	buf[0], buf[1] = cursorVersion, generationByte(g)
	if p.created == nil {
		buf[2] = cursorUndated
	} else {
		binary.BigEndian.PutUint64(buf[3:], uint64(p.created.UnixMicro()))
	}
	if g == authprovider.BetterAuth {
		u, _ := uuid.Parse(p.id) // ids of better_auth rows are uuids
		buf = append(buf, u[:]...)
	} else {
		buf = append(buf, p.id...)
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// decodeCursor parses a cursor made by encodeCursor for generation g,
// refusing anything else with an *InputError for field.
func decodeCursor(g authprovider.Provider, field, s string) (position, error) {
	bad := func(why string) (position, error) {
		return position{}, inputErr(field, "is not a valid page cursor (%s); start again from the first page", why)
	}
	if len(s) > maxCursorLen {
		return bad("too long")
	}
	buf, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	if len(buf) <= cursorHeader {
		return bad("too short")
	}
	if buf[0] != cursorVersion {
		return bad("unknown version")
	}
	if buf[1] != generationByte(g) {
		return bad("made for another user table")
	}
	micros := int64(binary.BigEndian.Uint64(buf[3:]))
	var p position
	switch buf[2] {
	case 0:
		if micros < minCursorTime || micros > maxCursorTime {
			return bad("time out of range")
		}
		t := time.UnixMicro(micros).UTC()
		p.created = &t
	case cursorUndated:
		if micros != 0 || g == authprovider.BetterAuth {
			return bad("inconsistent flags")
		}
	default:
		return bad("unknown flags")
	}
	id := buf[cursorHeader:]
	if g == authprovider.BetterAuth {
		u, err := uuid.FromBytes(id)
		if err != nil {
			return bad("id is not a uuid")
		}
		p.id = u.String()
		return p, nil
	}
	if err := checkText(field, string(id), maxCursorIDLen); err != nil {
		return bad("id is not valid text")
	}
	p.id = string(id)
	return p, nil
}
