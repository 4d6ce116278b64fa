package views

import "testing"

// TestNeonSpendSummarySaysWhoseSpendItIs: the footer says when the count
// is every replica's, and does not claim it when it is this process's.
func TestNeonSpendSummarySaysWhoseSpendItIs(t *testing.T) {
	own := NeonSpend{LastMinute: 12, PerMinute: 140, KeyPerMinute: 700}
	if got, want := own.Summary(), "Neon API: 12 calls in the last minute of this dashboard's 140 a minute (20% of the key's 700)."; got != want {
		t.Errorf("own spend: %q, want %q", got, want)
	}
	all := own
	all.AllReplicas = true
	if got, want := all.Summary(), "Neon API: 12 calls in the last minute by all replicas together of this dashboard's 140 a minute (20% of the key's 700)."; got != want {
		t.Errorf("shared spend: %q, want %q", got, want)
	}
}
