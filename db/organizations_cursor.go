package db

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// keyset is a row's place in one of the organization lists: organizations
// by (name, id), members and invitations by ("createdAt", id).
type keyset struct {
	name string
	at   time.Time
	id   uuid.UUID
}

// The lists a keyset cursor belongs to; a cursor of one is refused by the
// others.
const (
	keysetOrganizations byte = 'o'
	keysetMembers       byte = 'm'
	keysetInvitations   byte = 'i'
)

// Keyset cursor layout, before base64url: version, list, the 16 uuid bytes,
// then the organization's name as UTF-8 or the row's createdAt as
// microseconds since the Unix epoch (big-endian int64). Like the users
// browser's cursors it names a place in a list the caller may read anyway,
// so it is validated, not signed.
const (
	keysetVersion = 1
	keysetHeader  = 2 + 16
	// maxKeysetCursorLen bounds the encoded cursor: room for any real
	// organization name, far below a hostile megabyte.
	maxKeysetCursorLen = 8 << 10
)

func encodeKeyset(list byte, k keyset) string {
	buf := make([]byte, 0, keysetHeader+8+len(k.name))
	buf = append(buf, keysetVersion, list)
	buf = append(buf, k.id[:]...)
	if list == keysetOrganizations {
		buf = append(buf, k.name...)
	} else {
		buf = binary.BigEndian.AppendUint64(buf, uint64(k.at.UnixMicro()))
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// decodeKeyset parses a cursor encodeKeyset made for list, refusing anything
// else with an *InputError for field.
func decodeKeyset(list byte, field, s string) (keyset, error) {
	bad := func(why string) (keyset, error) {
		return keyset{}, inputErr(field, "is not a valid page cursor (%s); start again from the first page", why)
	}
	if len(s) > maxKeysetCursorLen {
		return bad("too long")
	}
	buf, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	if len(buf) < keysetHeader {
		return bad("too short")
	}
	if buf[0] != keysetVersion {
		return bad("unknown version")
	}
	if buf[1] != list {
		return bad("made for another list")
	}
	var k keyset
	copy(k.id[:], buf[2:keysetHeader])
	rest := buf[keysetHeader:]
	if list == keysetOrganizations {
		if !utf8.Valid(rest) || bytes.IndexByte(rest, 0) >= 0 {
			return bad("name is not valid text")
		}
		k.name = string(rest)
		return k, nil
	}
	if len(rest) != 8 {
		return bad("wrong length")
	}
	micros := int64(binary.BigEndian.Uint64(rest))
	if micros < minCursorTime || micros > maxCursorTime {
		return bad("time out of range")
	}
	k.at = time.UnixMicro(micros).UTC()
	return k, nil
}
