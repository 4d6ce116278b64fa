package neonauth

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// TestWritesWithoutUsableAnswerHaveUnknownOutcomes creates a user while the
// sandbox makes it and then spoils the answer: each is an
// *OutcomeUnknownError saying why, with the request id, and the user exists.
// A refusal and a request that never left stay known failures.
func TestWritesWithoutUsableAnswerHaveUnknownOutcomes(t *testing.T) {
	e := newServiceEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Enable(ctx, EnableRequest{ProjectID: e.project.ID, Provider: authprovider.Stack, BranchID: e.project.BranchID, DatabaseName: e.project.DatabaseName}); err != nil {
		t.Fatal(err)
	}
	ref := Ref{ProjectID: e.project.ID, Provider: authprovider.Stack}
	tests := []struct {
		name       string
		fault      sandbox.Fault
		timeout    time.Duration
		want       OutcomeReason
		wantFields []string
	}{
		{name: "answered {}", fault: sandbox.Fault{Kind: sandbox.FaultEmpty}, want: AnswerIncomplete, wantFields: []string{"id"}},
		{name: "answered a path as the id", fault: sandbox.Fault{Kind: sandbox.FaultBody, Body: `{"id":"../../../projects"}`}, want: AnswerIncomplete, wantFields: []string{"id"}},
		{name: "answered malformed JSON", fault: sandbox.Fault{Kind: sandbox.FaultMalformed}, want: AnswerUnreadable},
		{name: "connection dropped after the write", fault: sandbox.Fault{Kind: sandbox.FaultDropAfter}, want: ConnectionDropped},
		{name: "no answer in time", fault: sandbox.Fault{Kind: sandbox.FaultHangAfter, Hang: time.Minute}, timeout: 300 * time.Millisecond, want: NoAnswerInTime},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fault.PathContains = "/projects/auth/user"
			e.sb.InjectFault(tt.fault)
			t.Cleanup(e.sb.ClearFaults)
			cctx := neonapi.WithRequestID(ctx, "req-"+tt.name[:4])
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(cctx, tt.timeout)
				defer cancel()
			}
			email := "unknown-" + string(rune('a'+i)) + "@example.com"
			u, err := e.svc.CreateUser(cctx, ref, email, "")
			var unknown *OutcomeUnknownError
			if !errors.As(err, &unknown) {
				t.Fatalf("CreateUser = %+v, %v; want an OutcomeUnknownError", u, err)
			}
			if unknown.Reason() != tt.want || !slices.Equal(unknown.Fields(), tt.wantFields) {
				t.Errorf("reason %d, fields %v; want %d, %v", unknown.Reason(), unknown.Fields(), tt.want, tt.wantFields)
			}
			if unknown.RequestID != "req-"+tt.name[:4] || unknown.Change != "the user was created" {
				t.Errorf("error = %+v", unknown)
			}
			// Malformed answers come without doing anything; the others made the user.
			_, err = e.neon.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: e.project.ID, AuthProvider: authprovider.Stack, Email: email})
			if made := errors.Is(err, neonapi.ErrConflict); made != (tt.fault.Kind != sandbox.FaultMalformed) {
				t.Errorf("creating %s again: %v", email, err)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		_, err := e.svc.CreateUser(ctx, ref, "unknown-a@example.com", "")
		if !errors.Is(err, neonapi.ErrConflict) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("err = %v, want Neon's conflict", err)
		}
	})
	t.Run("never sent", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		neon, err := neonapi.New("k", neonapi.WithBaseURL("http://"+addr+"/api/v2"), neonapi.WithoutRateLimit(),
			neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(neon, nil, UserDBConfig{}).CreateUser(ctx, ref, "x@example.com", "")
		if err == nil || errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, neonapi.ErrUnavailable) {
			t.Errorf("err = %v, want Neon unreachable, known not to have happened", err)
		}
	})
}
