package jobs

import (
	"fmt"
	"strings"
	"testing"
)

// TestAbandonCopy: a copy concluded for a dead replica says what was
// applied, what may have been made and what was never attempted, whether
// it died during a step, between two, or after the last.
func TestAbandonCopy(t *testing.T) {
	steps := []string{"one", "two", "three"}
	start := Copy(CopyParams{ProjectID: "p", To: "b"}, steps, "ada").Progress
	during := start.StepStarting(0).StepApplied().StepStarting(1)
	between := start.StepStarting(0).StepApplied()
	after := between.StepStarting(1).StepApplied().StepStarting(2).StepApplied()
	for _, c := range []struct {
		name                           string
		p                              Progress
		applied, unknown, notAttempted string
		failed                         bool
		words                          string
	}{
		{"during a step", during, "[one]", "[two]", "[three]", true, `1 of 3 steps applied, "two" may have been made, 1 not attempted`},
		{"between steps", between, "[one]", "[]", "[two three]", true, "1 of 3 steps applied, 2 not attempted"},
		{"before any step", start, "[]", "[]", "[one two three]", true, "0 of 3 steps applied, 3 not attempted"},
		{"after the last", after, "[one two three]", "[]", "[]", false, "3 of 3 steps applied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, result, msg := abandonCopy(c.p)
			got := fmt.Sprint(p.Applied, p.Unknown, p.NotAttempted, p.Failed)
			if want := c.applied + " " + c.unknown + " " + c.notAttempted + " []"; got != want {
				t.Errorf("steps %s, want %s", got, want)
			}
			if c.failed != (msg != "") || !strings.Contains(msg+result, c.words) {
				t.Errorf("result %q, error %q; want failed=%v saying %q", result, msg, c.failed, c.words)
			}
			if p.InFlight != nil {
				t.Error("a concluded copy still has a step in flight")
			}
		})
	}
}
