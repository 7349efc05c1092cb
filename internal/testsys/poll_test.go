package testsys

import (
	"testing"
	"time"
)

// TestPoll: Poll checks at once, keeps checking until the condition holds,
// and gives up after its bound, not long after it; Await returns the value
// that held; Loaded is never below its base.
func TestPoll(t *testing.T) {
	calls := 0
	if !Poll(time.Minute, func() bool { calls++; return true }) || calls != 1 {
		t.Errorf("a condition that holds at once: Poll checked %d times", calls)
	}
	calls = 0
	begin := time.Now()
	if !Poll(time.Minute, func() bool { calls++; return time.Since(begin) > 100*time.Millisecond }) {
		t.Error("Poll gave up on a condition that came after 100 ms")
	}
	if took := time.Since(begin); took > 2*time.Second || calls < 5 {
		t.Errorf("a condition that came after 100 ms: seen after %s and %d checks", took, calls)
	}
	begin = time.Now()
	if Poll(300*time.Millisecond, func() bool { return false }) {
		t.Error("Poll says a condition that never holds held")
	}
	if took := time.Since(begin); took < 300*time.Millisecond || took > 2*time.Second {
		t.Errorf("Poll gave up after %s, bound 300 ms", took)
	}
	n := 0
	if got := Await(t, time.Minute, "the third value", func() (int, bool) { n++; return n, n == 3 }); got != 3 {
		t.Errorf("Await = %d, want 3", got)
	}
	for _, base := range []time.Duration{100 * time.Millisecond, 2 * time.Second, 90 * time.Second} {
		if d := Loaded(base); d < base || d > 10*base+time.Second {
			t.Errorf("Loaded(%s) = %s", base, d)
		}
	}
}
