package db

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// UserDetail is everything the user table holds about one user.
type UserDetail struct {
	UserRow
	// Columns lists every column of the row in table order, as Postgres
	// renders it to JSON text: generated columns included.
	Columns []Column
	// RawJSON is users_sync's raw_json, indented; "" for better_auth.
	RawJSON string
	// Timeline lists what happened to the user, oldest first.
	Timeline []TimelineEvent
}

// Column is one column of a user's row.
type Column struct {
	Name  string
	Value string // "" when Null
	Null  bool
}

// TimelineEvent is one dated fact about a user.
type TimelineEvent struct {
	Kind string // "created", "last active", "updated", "deleted", "ban expires"
	At   time.Time
}

// Detail returns every column of the user with exactly this id, or
// ErrNotFound. A better_auth id that is not a uuid cannot exist and gives
// ErrNotFound without a query.
func (b *UserBrowser) Detail(ctx context.Context, id string) (UserDetail, error) {
	const op = "user detail"
	if err := b.check(op); err != nil {
		return UserDetail{}, err
	}
	if err := checkText("id", id, maxIDLen); err != nil {
		return UserDetail{}, err
	}
	if b.gen == authprovider.BetterAuth {
		u, err := uuid.Parse(id)
		if err != nil {
			return UserDetail{}, fmt.Errorf("db: %s on %s: %w", op, b.target, ErrNotFound)
		}
		id = u.String()
	}
	// One primary-key read: the row as the browser shows it, and the whole
	// row as JSON, whose keys keep the table's column order.
	var a sqlArgs
	sql := fmt.Sprintf("SELECT %s, row_to_json(u)::text FROM %s u WHERE u.id = %s",
		b.spec.selectList(), b.spec.table, a.text(id, b.spec.idType))
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...)
	if err != nil {
		return UserDetail{}, wrapErr(op, b.target, err)
	}
	var whole string
	row, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (UserRow, error) {
		return scanUserRow(b.gen, r, &whole)
	})
	if err != nil {
		return UserDetail{}, wrapErr(op, b.target, err)
	}
	d := UserDetail{UserRow: row}
	if d.Columns, err = jsonColumns(whole); err != nil {
		return UserDetail{}, wrapErr(op, b.target, err)
	}
	for _, c := range d.Columns {
		if c.Name == "raw_json" && !c.Null {
			var buf bytes.Buffer
			if json.Indent(&buf, []byte(c.Value), "", "  ") == nil {
				d.RawJSON = buf.String()
			}
		}
	}
	d.Timeline = b.timeline(d)
	return d, nil
}

// jsonColumns reads the object row_to_json made of a row into columns, in
// its key order: strings as their text, null as Null, anything else (numbers,
// booleans, json values) as its JSON text, as json_each_text renders them.
func jsonColumns(obj string) ([]Column, error) {
	dec := json.NewDecoder(strings.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("row is not a JSON object: %v", err)
	}
	var cols []Column
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		c := Column{Name: name, Value: string(raw)}
		switch {
		case string(raw) == "null":
			c.Value, c.Null = "", true
		case raw[0] == '"':
			if err := json.Unmarshal(raw, &c.Value); err != nil {
				return nil, err
			}
		}
		cols = append(cols, c)
	}
	return cols, nil
}

func (b *UserBrowser) timeline(d UserDetail) []TimelineEvent {
	var t []TimelineEvent
	add := func(kind string, at *time.Time) {
		if at != nil {
			t = append(t, TimelineEvent{Kind: kind, At: *at})
		}
	}
	if !d.undated {
		add("created", &d.CreatedAt)
	}
	add("last active", d.LastActiveAt)
	add("updated", d.UpdatedAt)
	add("deleted", d.DeletedAt)
	for _, c := range d.Columns {
		if c.Name == "banExpires" && !c.Null {
			if at, err := time.Parse(time.RFC3339Nano, c.Value); err == nil {
				add("ban expires", &at)
			}
		}
	}
	slices.SortStableFunc(t, func(x, y TimelineEvent) int { return x.At.Compare(y.At) })
	return t
}
