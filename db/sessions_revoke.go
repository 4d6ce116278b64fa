package db

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// RevokeBatch is how many sessions one statement of a revocation deletes.
// Each batch is its own short transaction deleting by primary key, so the
// app signing people in and out never waits on a revocation for more than
// one batch's few milliseconds of locks.
const RevokeBatch = 1000

// Bounds on one revocation batch: it gives up rather than hold its locks, or
// wait for another's, for long.
const (
	revokeStatementTimeout = "10s"
	revokeLockTimeout      = "2s"
)

// CountSessions counts the sessions f selects. On a large session table
// (LargeTable rows by the catalog's measure) it answers with the planner's
// estimate unless exact is set; smaller tables are always counted. Session
// counts are never cached: a revocation must show at once.
func (b *UserBrowser) CountSessions(ctx context.Context, f SessionFilter, exact bool) (UserCount, error) {
	const op = "count sessions"
	if err := b.checkSessions(op); err != nil {
		return UserCount{}, err
	}
	f, err := f.normalize()
	if err != nil {
		return UserCount{}, err
	}
	now := time.Now()
	if !exact {
		n, ok, err := b.estimateSessions(ctx, f)
		if err != nil {
			return UserCount{}, wrapErr(op, b.target, err)
		}
		if ok {
			return UserCount{N: n, AsOf: now}, nil
		}
	}
	n, err := b.countSessions(ctx, f)
	if err != nil {
		return UserCount{}, wrapErr(op, b.target, err)
	}
	return UserCount{N: n, Exact: true, AsOf: now}, nil
}

// CountMatchingSessions counts exactly, never from a cache, the sessions f
// selects: the figure a revocation's confirmation shows, and checks again
// before it revokes.
func (b *UserBrowser) CountMatchingSessions(ctx context.Context, f SessionFilter) (int64, error) {
	const op = "count sessions"
	if err := b.checkSessions(op); err != nil {
		return 0, err
	}
	f, err := f.normalize()
	if err != nil {
		return 0, err
	}
	n, err := b.countSessions(ctx, f)
	return n, wrapErr(op, b.target, err)
}

func (b *UserBrowser) countSessions(ctx context.Context, f SessionFilter) (int64, error) {
	var a sqlArgs
	var n int64
	err := b.pool.QueryRow(ctx, "SELECT count(*) FROM neon_auth.session s"+whereSQL(f.where(&a)),
		append([]any{pgx.QueryExecModeExec}, a.args...)...).Scan(&n)
	return n, err
}

// estimateSessions returns the planner's estimate of the sessions f
// selects, or false when the table is small enough to count. The table's
// size is pg_class.reltuples scaled to its size on disk, as for users.
func (b *UserBrowser) estimateSessions(ctx context.Context, f SessionFilter) (int64, bool, error) {
	var reltuples float64
	var relpages int32
	var blocks int64
	err := b.pool.QueryRow(ctx, `SELECT c.reltuples, c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::bigint
  FROM pg_class c WHERE c.oid = 'neon_auth.session'::regclass`).Scan(&reltuples, &relpages, &blocks)
	if err != nil {
		return 0, false, err
	}
	if reltuples < 0 || relpages <= 0 {
		// Never analyzed: large only if large on disk.
		return 0, false, nil
	}
	rows := int64(math.Round(reltuples / float64(relpages) * float64(blocks)))
	if rows < b.largeTable {
		return 0, false, nil
	}
	var a sqlArgs
	w := f.where(&a)
	if len(w) == 0 {
		return rows, true, nil
	}
	var out []byte
	err = b.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT 1 FROM neon_auth.session s"+whereSQL(w),
		append([]any{pgx.QueryExecModeExec}, a.args...)...).Scan(&out)
	if err != nil {
		return 0, false, err
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		return 0, false, fmt.Errorf("unexpected EXPLAIN output: %v", err)
	}
	return min(int64(plans[0].Plan.Rows), rows), true, nil
}

// RevokeSession deletes the session with this id, ending it in the
// database: Better Auth looks a session up by its token on every request
// its cookie cache does not answer, and finds none. ErrSessionNotFound when
// no such session exists.
func (b *UserBrowser) RevokeSession(ctx context.Context, id string) error {
	const op = "revoke session"
	if err := b.checkSessions(op); err != nil {
		return err
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return inputErr("session", "is not a session id (a uuid)")
	}
	tag, err := b.pool.Exec(ctx, `DELETE FROM neon_auth.session WHERE id = $1::uuid`, pgx.QueryExecModeExec, u.String())
	if err != nil {
		return wrapErr(op, b.target, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrSessionNotFound)
	}
	return nil
}

// RevokeUserSessions deletes every session of the user with this id,
// expired ones included, in batches, and returns how many it deleted.
func (b *UserBrowser) RevokeUserSessions(ctx context.Context, userID string) (int64, error) {
	u, err := uuid.Parse(userID)
	if err != nil {
		return 0, inputErr("user", "is not a user id (a uuid)")
	}
	return b.revoke(ctx, "revoke user sessions", SessionFilter{User: u.String(), IncludeExpired: true}, nil)
}

// RevokeMatchingSessions deletes the sessions f selects in batches of
// RevokeBatch, each its own transaction, calling progress (when not nil)
// with the running total after each batch. Only sessions created before it
// started are revoked, so that sign-ins during a long revocation cannot keep
// it going. It stops between batches when ctx ends and returns how many it
// had revoked by then, with the error.
func (b *UserBrowser) RevokeMatchingSessions(ctx context.Context, f SessionFilter, progress func(revoked int64)) (int64, error) {
	return b.revoke(ctx, "revoke sessions", f, progress)
}

func (b *UserBrowser) revoke(ctx context.Context, op string, f SessionFilter, progress func(int64)) (int64, error) {
	if err := b.checkSessions(op); err != nil {
		return 0, err
	}
	f, err := f.normalize()
	if err != nil {
		return 0, err
	}
	var started time.Time
	if err := b.pool.QueryRow(ctx, `SELECT now()`).Scan(&started); err != nil {
		return 0, wrapErr(op, b.target, err)
	}
	var a sqlArgs
	w := append(f.where(&a), `s."createdAt" <= `+a.time(started))
	// The ids first, read in chunks that lock nothing; then each batch is a
	// delete by primary key, whose row locks last milliseconds. Finding the
	// rows inside each batch's delete would hold the locks already taken
	// while the scan walks the rest of the table, and a session the app
	// refreshes meanwhile would wait for all of it. Chunks follow the
	// primary key, so memory stays at one chunk however many match.
	idsAt := len(a.args) + 1
	chunk := fmt.Sprintf(`SELECT s.id FROM neon_auth.session s%s
 ORDER BY s.id LIMIT %d`, whereSQL(append(w, fmt.Sprintf(`s.id > $%d::uuid`, idsAt))), revokeChunk)
	del := fmt.Sprintf(`DELETE FROM neon_auth.session s WHERE s.id = ANY($%d::uuid[])%s`, idsAt, andSQL(w))
	var total int64
	after := pgtype.UUID{Valid: true} // the nil uuid: before every other
	for {
		ids, err := b.matchingSessionIDs(ctx, chunk, append(append([]any{}, a.args...), after))
		if err != nil {
			return total, wrapErr(op, b.target, err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		after = ids[len(ids)-1]
		for len(ids) > 0 {
			if err := ctx.Err(); err != nil {
				return total, wrapErr(op, b.target, err)
			}
			batch := ids[:min(RevokeBatch, len(ids))]
			ids = ids[len(batch):]
			n, err := b.revokeBatch(ctx, del, append(append([]any{}, a.args...), batch))
			if err != nil {
				return total, wrapErr(op, b.target, err)
			}
			total += n
			if progress != nil {
				progress(total)
			}
		}
	}
}

// revokeChunk is how many ids of the sessions to revoke are read at once:
// 800 KB of them. A variable so that a test can cross chunks cheaply.
var revokeChunk = 50 * RevokeBatch

// matchingSessionIDs reads one chunk of the ids a revocation deletes.
func (b *UserBrowser) matchingSessionIDs(ctx context.Context, sql string, args []any) ([]pgtype.UUID, error) {
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[pgtype.UUID])
}

// andSQL continues a statement's WHERE with the conditions w, each ANDed.
func andSQL(w []string) string {
	var sb strings.Builder
	for _, c := range w {
		sb.WriteString(" AND " + c)
	}
	return sb.String()
}

// revokeBatch runs one batch in its own transaction, under timeouts of its
// own whatever lane the pool serves.
func (b *UserBrowser) revokeBatch(ctx context.Context, sql string, args []any) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)`,
			revokeStatementTimeout, revokeLockTimeout)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
