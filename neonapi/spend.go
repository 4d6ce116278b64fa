package neonapi

import (
	"sync"
	"time"
)

// Spend is what the client has spent of Neon's rate budget: the requests it
// sent in the last minute, retries included, and its own limit per minute
// (0 when it has none).
type Spend struct {
	LastMinute int
	PerMinute  int
	// Shared is set when LastMinute counts the calls of every client of a
	// shared budget (WithSharedBudget): the slots they took in the last
	// minute. It is clear when LastMinute is this client's alone: without
	// a shared budget, or while its store does not answer.
	Shared bool
}

// Spend returns the client's spend of the rate budget.
func (c *Client) Spend() Spend {
	if c.shared != nil {
		if n, ok := c.shared.lastMinute(); ok {
			return Spend{LastMinute: n, PerMinute: c.perMinute, Shared: true}
		}
	}
	return Spend{LastMinute: c.spend.lastMinute(), PerMinute: c.perMinute}
}

// spendMeter counts requests over a sliding minute, in one-second buckets.
type spendMeter struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets [60]int
	stamps  [60]int64 // the unix second each bucket counts
}

func newSpendMeter() *spendMeter { return &spendMeter{now: time.Now} }

// add counts one request sent now.
func (m *spendMeter) add() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sec := m.now().Unix()
	i := sec % 60
	if m.stamps[i] != sec {
		m.stamps[i], m.buckets[i] = sec, 0
	}
	m.buckets[i]++
}

// lastMinute returns the requests counted in the last sixty seconds.
func (m *spendMeter) lastMinute() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sec := m.now().Unix()
	n := 0
	for i, s := range m.stamps {
		if sec-s < 60 {
			n += m.buckets[i]
		}
	}
	return n
}
