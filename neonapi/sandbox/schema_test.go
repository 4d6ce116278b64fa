package sandbox

import (
	"strings"
	"testing"
)

func TestDDLSplit(t *testing.T) {
	stack := StackDDL()
	if !strings.HasPrefix(stack, "CREATE SCHEMA neon_auth;") || !strings.Contains(stack, "users_sync_deleted_at_idx") || strings.Contains(stack, `"user"`) {
		t.Fatalf("stack DDL split wrong:\n%s", stack)
	}
	ba := BetterAuthDDL()
	if !strings.Contains(ba, `CREATE TABLE neon_auth."user"`) || !strings.Contains(ba, "user_email_key") || strings.Contains(ba, "users_sync") {
		t.Fatalf("better_auth DDL split wrong:\n%s", ba)
	}
}
