package db

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// userCol is one column of a user row. A table's list of them is the one
// place that says what a UserRow is read from: every statement selecting
// users selects the list, scanUserRow scans it in the same order, and an
// export writes the entries it exports, in that order.
type userCol struct {
	// name is the column as shown and exported: the CSV header and JSON key.
	name string
	// sel selects the value a UserRow holds, of the table aliased u.
	sel string
	// export selects the exported value when it differs from sel, which
	// coalesces NULLs the export keeps; "" exports sel.
	export string
	// kind is how an export writes the value; notExported leaves it out.
	kind exportKind
	// dest returns where in u the value is scanned.
	dest func(u *UserRow) any
}

// stackColumns are the columns of neon_auth.users_sync. Stack Auth keeps no
// role or ban, so those stay zero.
var stackColumns = []userCol{
	{name: "id", sel: "u.id", kind: exportText, dest: func(u *UserRow) any { return &u.ID }},
	{name: "email", sel: "coalesce(u.email, '')", export: "u.email", kind: exportText, dest: func(u *UserRow) any { return &u.Email }},
	{name: "name", sel: "coalesce(u.name, '')", export: "u.name", kind: exportText, dest: func(u *UserRow) any { return &u.Name }},
	{name: "created_at", sel: "u.created_at", kind: exportTime, dest: func(u *UserRow) any { return &signupTime{u} }},
	{name: "updated_at", sel: "u.updated_at", kind: exportTime, dest: func(u *UserRow) any { return &u.UpdatedAt }},
	{name: "deleted_at", sel: "u.deleted_at", kind: exportTime, dest: func(u *UserRow) any { return &u.DeletedAt }},
	{name: "email_verified", sel: "coalesce(u.raw_json -> 'primary_email_verified' = 'true'::jsonb, false)", kind: exportBool,
		dest: func(u *UserRow) any { return &u.EmailVerified }},
	{name: "last_active_at", sel: "u.raw_json ->> 'last_active_at_millis'", kind: notExported,
		dest: func(u *UserRow) any { return &millisTime{&u.LastActiveAt} }},
	{name: "image", sel: "coalesce(u.raw_json ->> 'profile_image_url', '')", kind: notExported,
		dest: func(u *UserRow) any { return &u.ImageURL }},
}

// betterAuthColumns are the columns of neon_auth."user". Better Auth deletes
// users outright, so DeletedAt stays nil. It keeps activity in sessions:
// LastActiveAt is the latest "updatedAt" of the user's sessions (Better Auth
// moves it when it refreshes a session), nil without one. Every statement
// selects it only for the rows it keeps (see joinBack), one probe of
// session_userId_idx each. It is not exported: an export would probe once per
// user of the whole table, and the sessions say it anyway.
var betterAuthColumns = []userCol{
	{name: "id", sel: "u.id::text", export: "u.id", kind: exportText, dest: func(u *UserRow) any { return &u.ID }},
	{name: "email", sel: "u.email", kind: exportText, dest: func(u *UserRow) any { return &u.Email }},
	{name: "name", sel: "u.name", kind: exportText, dest: func(u *UserRow) any { return &u.Name }},
	{name: "created_at", sel: `u."createdAt"`, kind: exportTime, dest: func(u *UserRow) any { return &signupTime{u} }},
	{name: "updated_at", sel: `u."updatedAt"`, kind: exportTime, dest: func(u *UserRow) any { return &u.UpdatedAt }},
	{name: "email_verified", sel: `u."emailVerified"`, kind: exportBool, dest: func(u *UserRow) any { return &u.EmailVerified }},
	{name: "role", sel: "coalesce(u.role, '')", export: "u.role", kind: exportText, dest: func(u *UserRow) any { return &u.Role }},
	{name: "banned", sel: "coalesce(u.banned, false)", export: "u.banned", kind: exportBool, dest: func(u *UserRow) any { return &u.Banned }},
	{name: "ban_expires", sel: `u."banExpires"`, kind: notExported, dest: func(u *UserRow) any { return &u.BanExpires }},
	{name: "image", sel: "coalesce(u.image, '')", kind: notExported, dest: func(u *UserRow) any { return &u.ImageURL }},
	{name: "last_active_at", sel: `(SELECT max(s."updatedAt") FROM neon_auth.session s WHERE s."userId" = u.id)`, kind: notExported,
		dest: func(u *UserRow) any { return &u.LastActiveAt }},
}

// selectList selects the columns of a UserRow from the table aliased u, in
// the order scanUserRow scans them.
func (s *tableSpec) selectList() string {
	sel := make([]string, len(s.cols))
	for i, c := range s.cols {
		sel[i] = c.sel
	}
	return strings.Join(sel, ", ")
}

// scanUserRow scans a row of gen's table selected by its selectList, then
// into extra any columns the statement adds after them. Every statement
// that reads users scans them here.
func scanUserRow(gen authprovider.Provider, row pgx.CollectableRow, extra ...any) (UserRow, error) {
	u := UserRow{User: User{Provider: gen}}
	cols := specs[gen].cols
	dest := make([]any, 0, len(cols)+len(extra))
	for _, c := range cols {
		dest = append(dest, c.dest(&u))
	}
	err := row.Scan(append(dest, extra...)...)
	return u, err
}

// signupTime scans the signup time into CreatedAt. users_sync computes it
// from raw_json, and a row whose raw_json lacks signed_up_at_millis has none:
// the row is then undated, and CreatedAt the zero time.
type signupTime struct{ u *UserRow }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (s *signupTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	s.u.CreatedAt, s.u.undated = time.Time{}, !v.Valid
	if !v.Valid {
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("cannot scan %v into a signup time", v.InfinityModifier)
	}
	s.u.CreatedAt = v.Time
	return nil
}

// millisTime scans a raw_json milliseconds field, which Stack Auth writes as
// a number, into a time; anything absent, unparsable or absurd is treated as
// absent rather than failing the page.
type millisTime struct{ t **time.Time }

// ScanText implements pgtype.TextScanner.
func (m *millisTime) ScanText(v pgtype.Text) error {
	*m.t = nil
	if !v.Valid {
		return nil
	}
	ms, err := strconv.ParseFloat(v.String, 64)
	if err != nil || ms < -62135596800000 || ms > 253402300799999 {
		return nil
	}
	t := time.UnixMilli(int64(ms)).UTC()
	*m.t = &t
	return nil
}
