package main

import (
	"io"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// TestSandboxOperationTimeFlag checks --operation-time: Neon-like by
// default, 0 for operations finished at once, never negative.
func TestSandboxOperationTimeFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration // as sandbox.Config takes it
	}{
		{nil, sandbox.DefaultOperationTime},
		{[]string{"--operation-time", "2s"}, 2 * time.Second},
		{[]string{"--operation-time", "0"}, -1},
	} {
		o, err := parseSandboxFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("parseSandboxFlags(%q): %v", tc.args, err)
		}
		if got := sandboxOperationTime(o.opTime); got != tc.want {
			t.Errorf("%q gives Config.OperationTime %s, want %s", tc.args, got, tc.want)
		}
	}
	if _, err := parseSandboxFlags([]string{"--operation-time", "-1s"}, io.Discard); err == nil {
		t.Error("a negative --operation-time was accepted")
	}
}
