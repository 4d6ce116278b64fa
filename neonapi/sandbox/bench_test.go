package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSandboxCreateUser measures createNeonAuthNewUser over HTTP from
// parallel clients, then checks that every user created reached users_sync
// exactly once.
func BenchmarkSandboxCreateUser(b *testing.B) {
	e := newEnv(b, Config{SyncDelay: time.Millisecond})
	p, br := e.createProject("bench")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)
	conn := e.connect(p)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)
	url := e.base + "/projects/auth/user"

	var seq, created atomic.Int64
	b.SetParallelism(8) // 8 clients per CPU, like a busy script
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"project_id":%q,"auth_provider":"stack","email":"bench%d@example.com","name":"Bench"}`, p, seq.Add(1))
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer bench")
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				b.Errorf("status %d", res.StatusCode)
				return
			}
			created.Add(1)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(created.Load())/b.Elapsed().Seconds(), "req/s")

	start := time.Now()
	e.waitSync()
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-to-sync")
	var rows, distinct int64
	err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT id) FROM neon_auth.users_sync").Scan(&rows, &distinct)
	if err != nil {
		b.Fatal(err)
	}
	if rows != created.Load() || distinct != rows {
		b.Fatalf("%d rows (%d distinct) for %d users created", rows, distinct, created.Load())
	}
}
