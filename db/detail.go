package db

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
	if b.gen == GenerationBetterAuth {
		u, err := uuid.Parse(id)
		if err != nil {
			return UserDetail{}, fmt.Errorf("db: %s on %s: %w", op, b.target, ErrNotFound)
		}
		id = u.String()
	}
	var a sqlArgs
	sql := fmt.Sprintf("SELECT %s FROM %s u WHERE u.id = %s", b.spec.rowCols, b.spec.table, a.text(id, b.spec.idType))
	rows, err := b.queryRows(ctx, sql, a.args)
	if err == nil && len(rows) == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return UserDetail{}, wrapErr(op, b.target, err)
	}
	d := UserDetail{UserRow: rows[0]}
	// row_to_json keeps the table's column order and json_each_text renders
	// each value as text, so one statement serves both tables' columns.
	cols, err := b.pool.Query(ctx, `SELECT j.key, j.value
  FROM `+b.spec.table+` u, json_each_text(row_to_json(u)) WITH ORDINALITY j(key, value, n)
 WHERE u.id = $1::`+b.spec.idType+` ORDER BY j.n`, pgx.QueryExecModeExec, id)
	if err != nil {
		return UserDetail{}, wrapErr(op, b.target, err)
	}
	d.Columns, err = pgx.CollectRows(cols, func(r pgx.CollectableRow) (Column, error) {
		var c Column
		var v *string
		err := r.Scan(&c.Name, &v)
		if v != nil {
			c.Value = *v
		}
		c.Null = v == nil
		return c, err
	})
	if err != nil {
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
