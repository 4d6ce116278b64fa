package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Budget is Neon's rate budget for one API key, shared by every replica
// that opens it: a token bucket of perMinute calls a minute holding at
// most burst, kept in one row of dashboard_state.neon_budget. The row holds
// the bucket as the generic cell rate algorithm does, as one timestamp
// (tat, the theoretical arrival time), so that taking a slot is a single
// statement that reads and moves it under the row's lock, on the database's
// clock: replicas whose clocks disagree still share one budget.
//
// The key itself never reaches the store: the row is named by KeyHash.
// Replicas that open a budget for one key with different rates each take
// slots at their own rate from the one row; give them the same.
type Budget struct {
	store     *Store
	key       string
	perMinute int
	burst     int
	// interval is the time between two slots at the sustained rate.
	interval time.Duration
	// swept is when the spend rows were last pruned (unix nanoseconds).
	swept atomic.Int64
}

// KeyHash names an API key in the store: the hex SHA-256 of "neon-budget:"
// and the key. Neon API keys are long random strings, so the hash reveals
// nothing that could be guessed back.
func KeyHash(apiKey string) string {
	sum := sha256.Sum256([]byte("neon-budget:" + apiKey))
	return hex.EncodeToString(sum[:16])
}

// Budget opens the shared budget of apiKey: perMinute calls a minute, with
// bursts of up to burst. Its row is created full when no replica made it
// yet.
func (s *Store) Budget(ctx context.Context, apiKey string, perMinute, burst int) (*Budget, error) {
	if apiKey == "" || perMinute <= 0 || burst <= 0 {
		return nil, errors.New("state: a budget needs an API key and a positive rate and burst")
	}
	b := &Budget{
		store:     s,
		key:       KeyHash(apiKey),
		perMinute: perMinute,
		burst:     burst,
		// Rounded up to the microsecond the database keeps: a budget a
		// hair faster than Neon's would, at full use, draw its 429s.
		interval: (time.Minute + time.Duration(perMinute)*time.Microsecond - 1) / time.Duration(perMinute) / time.Microsecond * time.Microsecond,
	}
	if err := b.ensure(ctx); err != nil {
		return nil, err
	}
	b.swept.Store(time.Now().UnixNano())
	return b, nil
}

// PerMinute is the budget's sustained rate.
func (b *Budget) PerMinute() int { return b.perMinute }

func (b *Budget) ensure(ctx context.Context) error {
	_, err := b.store.pool.Exec(ctx, `INSERT INTO dashboard_state.neon_budget (key_hash) VALUES ($1) ON CONFLICT (key_hash) DO NOTHING`, b.key)
	if err != nil {
		return fmt.Errorf("state: budget: %w", err)
	}
	return nil
}

// reserveSQL takes one slot of the budget when the bucket holds room
// slots within maxWait, in one statement. cur locks the row, and reads its
// newest tat even when another replica's statement committed meanwhile;
// taken then moves tat on by one interval and records the call in the
// spend. Parameters: $1 key hash, $2 interval, $3 burst times interval,
// $4 room times interval, $5 maxWait, all durations in microseconds.
//
// wait is when the slot's call may go out, relative to now (negative when
// the bucket has spare slots); room_wait is when room slots are there.
const reserveSQL = `
WITH clock AS (SELECT clock_timestamp() AS now),
cur AS (
	SELECT b.tat FROM dashboard_state.neon_budget b WHERE b.key_hash = $1 FOR UPDATE
),
slot AS (
	SELECT greatest(cur.tat, clock.now) + $2::bigint * interval '1 microsecond' AS next_tat,
	       greatest(cur.tat, clock.now) + ($2::bigint - $3::bigint) * interval '1 microsecond' - clock.now AS wait,
	       greatest(cur.tat, clock.now) + ($4::bigint - $3::bigint) * interval '1 microsecond' - clock.now AS room_wait,
	       clock.now
	FROM cur, clock
),
taken AS (
	UPDATE dashboard_state.neon_budget b SET tat = slot.next_tat
	FROM slot
	WHERE b.key_hash = $1 AND slot.room_wait <= $5::bigint * interval '1 microsecond'
	RETURNING slot.wait, slot.now
),
spent AS (
	INSERT INTO dashboard_state.neon_budget_spend (key_hash, second, calls)
	SELECT $1, floor(extract(epoch FROM taken.now + greatest(taken.wait, interval '0')))::bigint, 1 FROM taken
	ON CONFLICT (key_hash, second) DO UPDATE SET calls = dashboard_state.neon_budget_spend.calls + 1
)
SELECT (extract(epoch FROM slot.wait) * 1000000)::bigint,
       (extract(epoch FROM slot.room_wait) * 1000000)::bigint,
       EXISTS (SELECT 1 FROM taken)
FROM slot`

// Reserve takes one slot of the budget if the bucket holds room slots
// (1 for a call of its own; more for the first of a batch that must not
// start unless all of it can go) within maxWait. Taken, wait is how long the
// caller must sleep before its call goes out (0 when at once). Refused,
// nothing is taken and wait is when the room would be there. A maxWait of 0
// takes only a slot that is spare now.
func (b *Budget) Reserve(ctx context.Context, room int, maxWait time.Duration) (wait time.Duration, taken bool, err error) {
	room = min(max(room, 1), b.burst)
	var waitUS, roomUS int64
	for attempt := 0; ; attempt++ {
		err = b.store.pool.QueryRow(ctx, reserveSQL, b.key, b.interval.Microseconds(),
			int64(b.burst)*b.interval.Microseconds(), int64(room)*b.interval.Microseconds(),
			max(maxWait, 0).Microseconds()).Scan(&waitUS, &roomUS, &taken)
		if !errors.Is(err, pgx.ErrNoRows) || attempt > 0 {
			break
		}
		// The row is gone (an operator cleared the table): make it again.
		if err = b.ensure(ctx); err != nil {
			return 0, false, err
		}
	}
	if err != nil {
		return 0, false, fmt.Errorf("state: budget: %w", err)
	}
	b.sweep(ctx)
	if taken {
		return max(time.Duration(waitUS)*time.Microsecond, 0), true, nil
	}
	return max(time.Duration(roomUS)*time.Microsecond, 0), false, nil
}

// Release hands back one slot taken by Reserve whose call was never sent
// (its caller left while it waited), so that it is not lost to every
// replica. The spend still counts it.
func (b *Budget) Release(ctx context.Context) error {
	_, err := b.store.pool.Exec(ctx, `UPDATE dashboard_state.neon_budget SET tat = tat - $2::bigint * interval '1 microsecond' WHERE key_hash = $1`,
		b.key, b.interval.Microseconds())
	if err != nil {
		return fmt.Errorf("state: budget: %w", err)
	}
	return nil
}

// LastMinute counts the slots every replica took in the last sixty seconds
// (by the second their calls were to go out), which is what they sent to
// Neon but for calls whose callers left while they waited.
func (b *Budget) LastMinute(ctx context.Context) (int, error) {
	var n int64
	err := b.store.pool.QueryRow(ctx, `
		SELECT coalesce(sum(calls), 0) FROM dashboard_state.neon_budget_spend
		WHERE key_hash = $1 AND second > floor(extract(epoch FROM clock_timestamp()))::bigint - 60`, b.key).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("state: budget: %w", err)
	}
	return int(n), nil
}

// spendKept is how long spend rows are kept: the minute LastMinute counts,
// and one more for calls that were to go out later than they were taken.
const spendKept = 2 * time.Minute

// sweep drops spend rows past spendKept, at most once a minute per replica.
func (b *Budget) sweep(ctx context.Context) {
	last := b.swept.Load()
	now := time.Now().UnixNano()
	if now-last < int64(time.Minute) || !b.swept.CompareAndSwap(last, now) {
		return
	}
	// Best effort: a failed sweep leaves rows the next one drops.
	_, _ = b.store.pool.Exec(ctx, `DELETE FROM dashboard_state.neon_budget_spend WHERE key_hash = $1 AND second < floor(extract(epoch FROM clock_timestamp()))::bigint - $2`,
		b.key, int64(spendKept/time.Second))
}
