package testsys

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Poll checks cond until it holds, and reports whether it did within
// within. It checks at once, then every 2 ms at first and less often the
// longer it waits (up to every 100 ms): a condition that comes soon is
// seen soon, and one that takes long costs few checks.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	interval := 2 * time.Millisecond
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(interval, left))
		interval = min(interval*5/4, 100*time.Millisecond)
	}
}

// Eventually polls cond (as Poll does) until it holds, and fails the test
// if it does not within within, saying what it waited for.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	within = BeforeDeadline(t, within)
	if !Poll(within, cond) {
		t.Fatalf("not within %s: %s", within, what)
	}
}

// Await polls f (as Poll does) until it says ok, and returns the value it
// gave then; it fails the test if that does not come within within, saying
// what it waited for and the last value f gave.
func Await[T any](t testing.TB, within time.Duration, what string, f func() (T, bool)) T {
	t.Helper()
	within = BeforeDeadline(t, within)
	var v T
	if !Poll(within, func() bool {
		var ok bool
		v, ok = f()
		return ok
	}) {
		t.Fatalf("not within %s: %s; last seen:\n%v", within, what, v)
	}
	return v
}

// deadlineMargin is the time left, after a wait gives up at the test
// binary's deadline, for the test's cleanups and report.
const deadlineMargin = time.Minute

// BeforeDeadline is within, or less where the test binary's deadline (go
// test's -timeout) comes sooner: a wait ends deadlineMargin before it, and
// the test fails saying what it waited for, with its log, where go test's
// timeout would panic with neither. (OpencodeWait on a loaded machine is
// longer than go test's 10 minutes.) At least a second, or within if less.
func BeforeDeadline(t testing.TB, within time.Duration) time.Duration {
	dt, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return within
	}
	deadline, ok := dt.Deadline()
	if !ok {
		return within
	}
	if left := time.Until(deadline) - deadlineMargin; left < within {
		return min(within, max(left, time.Second))
	}
	return within
}

// OpencodeWait bounds every wait on a real OpenCode: its start, an answer,
// its stop. OpenCode takes 1-40 s to start on a loaded 2-core machine, so
// the bound is 180 s, longer on a loaded machine (Loaded). A wait polls, so
// a bound that is generous costs nothing when OpenCode is quick. (90 s was
// missed once: a server's start and `opencode run`'s answer, begun on an
// idle machine that the load of other tests then reached.)
func OpencodeWait() time.Duration { return Loaded(180 * time.Second) }

// Loaded is base on a machine whose load average (over the last minute) is
// at most its number of CPUs, and base times the load per CPU above that,
// up to ten times base (in whole seconds): a deadline that a machine busy
// with other work does not miss.
func Loaded(base time.Duration) time.Duration {
	f := loadPerCPU()
	if f <= 1 {
		return base
	}
	d := time.Duration(float64(base) * min(f, 10))
	if d > time.Second {
		d = d.Round(time.Second)
	}
	return d
}

// loadPerCPU is the load average over the last minute divided by the
// number of CPUs, or 0 where /proc/loadavg cannot be read.
func loadPerCPU() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return 0
	}
	return load / float64(runtime.NumCPU())
}

// MoreParallel sets go test's -parallel to times the number of CPUs when
// the command line does not give it: for a package whose tests spend their
// time waiting for other processes (shells, servers), not computing. Call
// it first in TestMain.
func MoreParallel(times int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(times*runtime.GOMAXPROCS(0)))
	}
}
