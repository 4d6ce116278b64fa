package neonapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestWritesWithoutResultCheckTheirAnswer: an operation that returns nothing
// still fails when Neon's 2xx answer is not JSON, since such an answer cannot
// be trusted to mean the change was made.
func TestWritesWithoutResultCheckTheirAnswer(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr bool
	}{
		{name: "no content", status: http.StatusNoContent},
		{name: "empty 200", status: http.StatusOK},
		{name: "JSON object", status: http.StatusOK, body: `{"operations":[]}`},
		{name: "cut short", status: http.StatusOK, body: `{"data": [{"id": "trunc`, wantErr: true},
		{name: "HTML page", status: http.StatusOK, body: `<html>gateway</html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := neonapi.New(testKey, neonapi.WithBaseURL(srv.URL), neonapi.WithoutRateLimit())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for name, call := range map[string]func() error{
				"DeleteUser":        func() error { return c.DeleteUser(ctx, "p-1", "u-1") },
				"DeleteBranchUser":  func() error { return c.DeleteBranchUser(ctx, "p-1", "br-1", "u-1") },
				"DeleteIntegration": func() error { return c.DeleteIntegration(ctx, "p-1", authprovider.Stack, false) },
				"DisableBranchAuth": func() error { return c.DisableBranchAuth(ctx, "p-1", "br-1", false) },
			} {
				err := call()
				if got := errors.Is(err, neonapi.ErrInvalidResponse); got != tt.wantErr {
					t.Errorf("%s: err = %v, want ErrInvalidResponse %v", name, err, tt.wantErr)
				}
				var reqErr *neonapi.RequestError
				if tt.wantErr && (!errors.As(err, &reqErr) || reqErr.RequestID == "") {
					t.Errorf("%s: %v carries no request id", name, err)
				}
			}
		})
	}
}
