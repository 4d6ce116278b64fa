package state

import (
	"context"
	"fmt"
	"time"
)

// Replica presence: each replica records that it is alive every
// presenceEvery, so that /readyz can say how many share the store. Rows
// unseen for presenceKept are dropped by whichever replica writes next.
const (
	presenceEvery = 15 * time.Second
	presenceKept  = 24 * time.Hour
)

// Touch records that this replica is alive now, running version.
func (s *Store) Touch(ctx context.Context, version string) error {
	_, err := s.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM dashboard_state.replicas WHERE seen_at < now() - $3::bigint * interval '1 second')
		INSERT INTO dashboard_state.replicas (name, version) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET seen_at = now(), version = EXCLUDED.version`,
		s.replica, version, int64(presenceKept/time.Second))
	if err != nil {
		return fmt.Errorf("state: replicas: %w", err)
	}
	return nil
}

// ReplicasSeen counts the replicas that recorded they were alive within
// the last d.
func (s *Store) ReplicasSeen(ctx context.Context, d time.Duration) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM dashboard_state.replicas WHERE seen_at >= now() - $1::bigint * interval '1 millisecond'`,
		d.Milliseconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("state: replicas: %w", err)
	}
	return n, nil
}

// KeepPresence records this replica as alive at once and then every
// presenceEvery until ctx ends; failures are retried at the next tick,
// since the store being away is reported by Ping.
func (s *Store) KeepPresence(ctx context.Context, version string) {
	t := time.NewTicker(presenceEvery)
	defer t.Stop()
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = s.Touch(tctx, version)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Leave removes this replica's presence, at a graceful shutdown.
func (s *Store) Leave(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM dashboard_state.replicas WHERE name = $1`, s.replica); err != nil {
		return fmt.Errorf("state: replicas: %w", err)
	}
	return nil
}
