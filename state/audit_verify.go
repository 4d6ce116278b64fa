package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditVerification is what VerifyAudit found.
type AuditVerification struct {
	// Entries is how many entries were checked, From and To the first and
	// last sequence numbers checked (both 0 for an empty trail).
	Entries  int64
	From, To int64
	// AnchorSeq is the last entry retention pruned (0: none), from whose
	// hash the chain was checked.
	AnchorSeq int64
	// Broken is the first entry at fault; nil when the chain is intact.
	Broken *AuditBreak
}

// The ways an entry breaks the chain.
const (
	// AuditAltered is an entry whose fields no longer match its hash, or
	// whose predecessor's hash is not the one it was chained to.
	AuditAltered = "altered"
	// AuditRemoved is an entry missing from the sequence.
	AuditRemoved = "entry missing (removed)"
)

// AuditBreak is the first entry at fault. For a removed entry, At and
// Action are those of the entry that follows the gap (zero at the end of
// the trail).
type AuditBreak struct {
	Seq    int64
	At     time.Time
	Action string
	Kind   string
}

// Error says where the chain breaks, as `dashboard audit verify` prints it.
func (b *AuditBreak) Error() string {
	where := "at the end of the trail"
	if !b.At.IsZero() {
		where = b.At.UTC().Format(time.RFC3339) + ", " + b.Action
		if b.Kind == AuditRemoved {
			where = "before " + where
		}
	}
	return fmt.Sprintf("audit chain broken at entry seq %d (%s): %s", b.Seq, where, b.Kind)
}

// VerifyAudit walks the whole trail from the retention anchor, in one
// snapshot so that appends running meanwhile do not count as breaks, and
// checks that every entry follows the one before and still matches its
// hash.
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return v, fmt.Errorf("state: audit: verify: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var prev, headHash string
	var headSeq int64
	err = tx.QueryRow(ctx, `SELECT a.seq, a.hash, h.seq, h.hash FROM `+Schema+`.audit_anchor a, `+Schema+`.audit_head h`).Scan(&v.AnchorSeq, &prev, &headSeq, &headHash)
	if err != nil {
		return v, fmt.Errorf("state: audit: verify: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+auditColumns+` FROM `+Schema+`.audit_entries WHERE seq > $1 ORDER BY seq`, v.AnchorSeq)
	if err != nil {
		return v, fmt.Errorf("state: audit: verify: %w", err)
	}
	defer rows.Close()
	next := v.AnchorSeq + 1
	var last AuditEntry
	for rows.Next() {
		e, raw, err := scanEntry(rows)
		if err != nil {
			return v, fmt.Errorf("state: audit: verify: %w", err)
		}
		if v.Broken = checkEntry(e, raw, next, prev); v.Broken != nil {
			return v, nil
		}
		if v.Entries == 0 {
			v.From = e.Seq
		}
		v.Entries++
		v.To, prev, next, last = e.Seq, e.Hash, e.Seq+1, e
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("state: audit: verify: %w", err)
	}
	switch {
	case headSeq >= next:
		// The newest entries are gone: the head still counts them.
		v.Broken = &AuditBreak{Seq: next, Kind: AuditRemoved}
	case v.Entries > 0 && headSeq == v.To && headHash != prev:
		// No entry follows the newest one to hold its hash; the head does,
		// so a newest entry forged with a recomputed hash is caught too.
		v.Broken = &AuditBreak{Seq: v.To, At: last.At, Action: last.Action, Kind: AuditAltered}
	}
	return v, nil
}

// checkEntry checks one entry against the sequence number and hash the
// chain expects of it.
func checkEntry(e AuditEntry, raw []byte, seq int64, prev string) *AuditBreak {
	if e.Seq != seq {
		return &AuditBreak{Seq: seq, At: e.At, Action: e.Action, Kind: AuditRemoved}
	}
	details, err := canonicalJSON(raw)
	if err != nil || e.PrevHash != prev || chainHash(e, details) != e.Hash {
		return &AuditBreak{Seq: e.Seq, At: e.At, Action: e.Action, Kind: AuditAltered}
	}
	return nil
}

// auditPruneLockID is the advisory lock a prune holds, so that only one
// replica prunes at a time ("dashbrd" + 2).
const auditPruneLockID = migrationLockID + 2

// PruneAudit deletes the entries older than before, keeping as the anchor
// the sequence number and hash of the last one deleted, so that the rest
// still verifies. A replica finding another one pruning skips its turn
// (returns 0). It returns how many entries it deleted.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("state: audit: prune: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(auditPruneLockID)).Scan(&locked); err != nil || !locked {
		return 0, wrapPrune(err)
	}
	var seq int64
	var hash string
	err = tx.QueryRow(ctx, `SELECT seq, hash FROM `+Schema+`.audit_entries WHERE at < $1 ORDER BY seq DESC LIMIT 1`, before).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrapPrune(err)
	}
	// The one session setting the append-only trigger lets delete, for
	// this transaction only.
	if _, err := tx.Exec(ctx, `SET LOCAL dashboard_state.audit_prune = 'on'`); err != nil {
		return 0, wrapPrune(err)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM `+Schema+`.audit_entries WHERE seq <= $1`, seq)
	if err != nil {
		return 0, wrapPrune(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+Schema+`.audit_anchor SET seq = $1, hash = $2, pruned_at = now() WHERE id`, seq, hash); err != nil {
		return 0, wrapPrune(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, wrapPrune(err)
	}
	return tag.RowsAffected(), nil
}

func wrapPrune(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("state: audit: prune: %w", err)
}
