package db

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// MaxBanReason is the longest ban reason accepted, in characters: Better
// Auth shows it to the user at sign-in, where a sentence or two is enough.
const MaxBanReason = 500

// MaxBanLength is how far ahead a timed ban may end; longer is what a
// permanent ban is for.
const MaxBanLength = 10 * 365 * 24 * time.Hour

// banTimeouts bound the statements of a ban or an unban: the user row and
// the session rows are locked, and a change that waits on someone else's
// lock must give up rather than hold the page.
const banTimeouts = `SELECT set_config('lock_timeout', '2s', true), set_config('statement_timeout', '5s', true)`

// CheckBan validates a ban before it is made, as of now: the reason is
// optional, at most MaxBanReason characters of valid UTF-8 without NUL
// bytes; expires, when set, lies in the future and at most MaxBanLength
// ahead. It returns the reason trimmed. Errors are *InputError values
// naming "reason" or "expires".
func CheckBan(reason string, expires *time.Time, now time.Time) (string, error) {
	if err := checkText("reason", reason, 4*MaxBanReason); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n > MaxBanReason {
		return "", inputErr("reason", "is %d characters long; at most %d fit", n, MaxBanReason)
	}
	if expires != nil {
		switch {
		case !expires.After(now):
			return "", inputErr("expires", "must be in the future")
		case expires.Sub(now) > MaxBanLength:
			return "", inputErr("expires", "must be at most 10 years ahead; leave it empty for a permanent ban")
		}
	}
	return reason, nil
}

// Ban bans the user as Better Auth's admin plugin does: banned is set,
// "banReason" holds reason (NULL when empty) and "banExpires" expires (NULL:
// permanent), and every session of the user is deleted, all in one
// transaction, so no session survives a ban and no ban comes without its
// revocations. It returns how many sessions it deleted. A user who does not
// exist is ErrNotFound; a bad reason or expiry an *InputError (CheckBan).
func (b *UserBrowser) Ban(ctx context.Context, userID, reason string, expires *time.Time) (revoked int64, err error) {
	const op = "ban user"
	id, err := b.personID(op, userID)
	if err != nil {
		return 0, err
	}
	if reason, err = CheckBan(reason, expires, time.Now()); err != nil {
		return 0, err
	}
	var stored *string
	if reason != "" {
		stored = &reason
	}
	err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, banTimeouts); err != nil {
			return err
		}
		var got string
		if err := tx.QueryRow(ctx, `UPDATE neon_auth."user"
   SET banned = true, "banReason" = $2, "banExpires" = $3, "updatedAt" = now()
 WHERE id = $1 RETURNING id::text`, id, stored, expires).Scan(&got); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM neon_auth.session WHERE "userId" = $1`, id)
		revoked = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrapErr(op, b.target, err)
	}
	return revoked, nil
}

// Unban lifts the user's ban as Better Auth's admin plugin does: banned
// false, no reason, no expiry. Sessions the ban ended stay ended. A user who
// does not exist is ErrNotFound.
func (b *UserBrowser) Unban(ctx context.Context, userID string) error {
	const op = "unban user"
	id, err := b.personID(op, userID)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, banTimeouts); err != nil {
			return err
		}
		var got string
		return tx.QueryRow(ctx, `UPDATE neon_auth."user"
   SET banned = false, "banReason" = NULL, "banExpires" = NULL, "updatedAt" = now()
 WHERE id = $1 RETURNING id::text`, id).Scan(&got)
	})
	return wrapErr(op, b.target, err)
}
