package testsys

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPoll: Poll checks at once, keeps checking until the condition holds,
// and gives up after its bound, not long after it; Await returns the value
// that held; Loaded is never below its base.
func TestPoll(t *testing.T) {
	t.Parallel()
	calls := 0
	if !Poll(time.Minute, func() bool { calls++; return true }) || calls != 1 {
		t.Errorf("a condition that holds at once: Poll checked %d times", calls)
	}
	calls = 0
	begin := time.Now()
	if !Poll(time.Minute, func() bool { calls++; return time.Since(begin) > 100*time.Millisecond }) {
		t.Error("Poll gave up on a condition that came after 100 ms")
	}
	if took := time.Since(begin); took > Loaded(2*time.Second) || calls < 5 {
		t.Errorf("a condition that came after 100 ms: seen after %s and %d checks", took, calls)
	}
	begin = time.Now()
	if Poll(300*time.Millisecond, func() bool { return false }) {
		t.Error("Poll says a condition that never holds held")
	}
	if took := time.Since(begin); took < 300*time.Millisecond || took > Loaded(2*time.Second) {
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

// deadlined is a test whose binary's deadline is at, and whose Fatalf is
// recorded rather than ending it.
type deadlined struct {
	testing.TB
	at    time.Time
	fatal string
}

func (d *deadlined) Deadline() (time.Time, bool) { return d.at, true }
func (d *deadlined) Helper()                     {}
func (d *deadlined) Fatalf(format string, args ...any) {
	d.fatal = fmt.Sprintf(format, args...)
}

// TestWaitEndsBeforeDeadline: a wait longer than the time left before go
// test's deadline gives up deadlineMargin before it, saying what it waited
// for; one that fits is left alone.
func TestWaitEndsBeforeDeadline(t *testing.T) {
	t.Parallel()
	d := &deadlined{TB: t, at: time.Now().Add(deadlineMargin + 2*time.Second)}
	begin := time.Now()
	Eventually(d, time.Hour, "the reload", func() bool { return false })
	if took := time.Since(begin); took > 20*time.Second || !strings.Contains(d.fatal, "the reload") {
		t.Errorf("a wait of an hour, 2 s before the margin: gave up after %s with %q", took, d.fatal)
	}
	if got := BeforeDeadline(d, time.Hour); got > 2*time.Second {
		t.Errorf("BeforeDeadline(an hour) = %s with %s left", got, time.Until(d.at))
	}
	far := &deadlined{TB: t, at: time.Now().Add(time.Hour)}
	if got := BeforeDeadline(far, time.Minute); got != time.Minute {
		t.Errorf("BeforeDeadline(a minute) = %s with an hour left", got)
	}
	if got := BeforeDeadline(d, 100*time.Millisecond); got != 100*time.Millisecond {
		t.Errorf("BeforeDeadline(100 ms) = %s", got)
	}
}
