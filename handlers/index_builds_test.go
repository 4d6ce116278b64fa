package handlers

import (
	"context"
	"errors"
	"testing"
)

// TestIndexBuildsRunOnceAndStopAtClose checks a second build of the same
// table is refused while one runs, and Close cancels the running one and
// waits for it.
func TestIndexBuildsRunOnceAndStopAtClose(t *testing.T) {
	b := NewIndexBuilds(context.Background())
	started := make(chan struct{})
	if !b.Start("p\x00stack", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}) {
		t.Fatal("the first build did not start")
	}
	<-started
	if b.Start("p\x00stack", func(context.Context) error { return nil }) {
		t.Error("a second build of the same table started")
	}
	if running, failed := b.State("p\x00stack"); !running || failed != nil {
		t.Errorf("state = %v, %v; want running", running, failed)
	}
	b.Close()
	if running, failed := b.State("p\x00stack"); running || !errors.Is(failed, context.Canceled) {
		t.Errorf("after Close: state = %v, %v; want stopped by cancellation", running, failed)
	}
	if b.Start("q\x00stack", func(context.Context) error { return nil }) {
		t.Error("a build started after Close")
	}
	var nilBuilds *IndexBuilds
	ran := false
	nilBuilds.Start("k", func(context.Context) error { ran = true; return nil })
	if !ran {
		t.Error("a nil IndexBuilds did not run the build")
	}
}
