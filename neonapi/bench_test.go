package neonapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// benchSandbox serves a sandbox with one project that has a stack integration,
// and returns the server, a client for it (rate limiter off, so the numbers
// show the client's own cost) and the project.
func benchSandbox(b *testing.B) (*httptest.Server, *neonapi.Client, sandbox.CreatedProject) {
	b.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Config{DatabaseURL: pgtest.Require(b), SyncDelay: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	b.Cleanup(srv.Close)
	p, err := sb.CreateProject(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	c, err := neonapi.New("bench-key", neonapi.WithBaseURL(srv.URL+"/api/v2"), neonapi.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack, ProjectID: p.ID, BranchID: p.BranchID,
		DatabaseName: p.DatabaseName, RoleName: p.RoleName,
	}); err != nil {
		b.Fatal(err)
	}
	return srv, c, p
}

// rawGet is the baseline: the same request with net/http alone, body read and
// discarded without decoding.
func rawGet(b *testing.B, hc *http.Client, url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer bench-key")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkClientGetProject compares GetProject with a raw GET of the same
// URL; the difference is the client's overhead per call (headers, request id,
// retry transport, error handling and JSON decoding).
func BenchmarkClientGetProject(b *testing.B) {
	srv, c, p := benchSandbox(b)
	ctx := context.Background()
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetProject(ctx, p.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		hc := &http.Client{}
		url := srv.URL + "/api/v2/projects/" + p.ID
		for b.Loop() {
			rawGet(b, hc, url)
		}
	})
	// The parallel pair shows the client under concurrent use, where the shared
	// transport and connection reuse matter.
	b.Run("client-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.GetProject(ctx, p.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("raw-parallel", func(b *testing.B) {
		b.ReportAllocs()
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		url := srv.URL + "/api/v2/projects/" + p.ID
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rawGet(b, hc, url)
			}
		})
	})
}

// BenchmarkClientListIntegrations is BenchmarkClientGetProject for
// listNeonAuthIntegrations.
func BenchmarkClientListIntegrations(b *testing.B) {
	srv, c, p := benchSandbox(b)
	ctx := context.Background()
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ints, err := c.ListIntegrations(ctx, p.ID)
			if err != nil || len(ints) != 1 {
				b.Fatalf("ListIntegrations = %d, %v", len(ints), err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		hc := &http.Client{}
		url := srv.URL + "/api/v2/projects/" + p.ID + "/auth/integrations"
		for b.Loop() {
			rawGet(b, hc, url)
		}
	})
}

// cannedTransport answers every request from memory, so a benchmark through it
// measures the client's own CPU and allocations without network noise.
type cannedTransport struct{ body string }

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(t.body)),
		Request:    r,
	}, nil
}

// BenchmarkClientOverheadInMemory isolates the per-call cost of the client
// (request building, request id, retry transport, decoding) from the network.
func BenchmarkClientOverheadInMemory(b *testing.B) {
	const project = `{"project":{"id":"p-1","name":"bench","region_id":"aws-us-east-2","pg_version":17,"created_at":"2024-03-19T12:00:00Z","updated_at":"2024-03-19T12:00:00Z"}}`
	c, err := neonapi.New("bench-key", neonapi.WithBaseURL("http://neon.invalid/api/v2"), neonapi.WithoutRateLimit(),
		neonapi.WithHTTPClient(&http.Client{Transport: cannedTransport{project}}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetProject(ctx, "p-1"); err != nil {
			b.Fatal(err)
		}
	}
}
