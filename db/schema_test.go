package db

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		gen     authprovider.Provider // of the fixture
		want    authprovider.Provider
		wantErr error
	}{
		{name: "users_sync", gen: authprovider.Stack, want: authprovider.Stack},
		{name: "better_auth user", gen: authprovider.BetterAuth, want: authprovider.BetterAuth},
		{name: "no schema", gen: authprovider.Unknown, wantErr: ErrSchemaMissing},
		{
			name: "schema without a user table", gen: authprovider.Unknown, wantErr: ErrSchemaMissing,
			setup: func(t *testing.T, f *fixture) {
				f.exec(t, `CREATE SCHEMA neon_auth; CREATE TABLE neon_auth.session (id text)`)
			},
		},
		{
			name: "both tables prefer better_auth", gen: authprovider.Stack, want: authprovider.BetterAuth,
			setup: func(t *testing.T, f *fixture) {
				f.exec(t, strings.Replace(sandbox.BetterAuthDDL(), "CREATE SCHEMA neon_auth;", "", 1))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.gen)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			got, err := Detect(context.Background(), f.pool(t))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Detect err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), Describe(f.connString)) {
				t.Errorf("error %q does not name the database %s", err, Describe(f.connString))
			}
		})
	}
}

func TestDetectUnreachable(t *testing.T) {
	const password = "npg_S3cretPassw0rd"
	tests := []struct {
		name       string
		connString string
		wantInMsg  []string
	}{
		{
			name:       "nothing listening",
			connString: "postgres://neondb_owner:" + password + "@127.0.0.1:1/neondb?sslmode=disable",
			wantInMsg:  []string{"127.0.0.1:1/neondb", "refused"},
		},
		{
			name:       "database does not exist",
			connString: pgtest.WithDatabase(pgtest.Require(t), "no_such_database_here"),
			wantInMsg:  []string{"/no_such_database_here", "does not exist"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := newPools(t).Get(context.Background(), tt.connString)
			if err != nil {
				t.Fatal(err)
			}
			gen, err := Detect(context.Background(), pool)
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("Detect err = %v, want ErrUnreachable", err)
			}
			if gen != authprovider.Unknown {
				t.Errorf("Detect = %q alongside an error", gen)
			}
			msg := err.Error()
			for _, want := range tt.wantInMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, password) || strings.Contains(msg, "user=") {
				t.Errorf("error %q leaks credentials", msg)
			}
			var connectErr *pgconn.ConnectError
			if errors.As(err, &connectErr) {
				t.Error("error chain holds pgconn.ConnectError, whose Config carries the password")
			}
		})
	}
}
