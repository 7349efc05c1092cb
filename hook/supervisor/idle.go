package supervisor

import (
	"time"

	"github.com/oca-sh/oca/hook/supervisor/statedir"
)

// idleTracker decides when the server is unused: no live lease and no
// established client connection to the port for the idle timeout.
type idleTracker struct {
	stateDir string
	port     int
	timeout  time.Duration // 0: never idle
	lastUsed time.Time
	timer    *time.Timer // fires when the timeout would run out
	logf     func(string, ...any)
}

func newIdleTracker(cfg Config, logf func(string, ...any)) *idleTracker {
	t := &idleTracker{stateDir: cfg.StateDir, port: cfg.Port, timeout: cfg.IdleTimeout, lastUsed: time.Now(), logf: logf}
	if t.timeout > 0 {
		t.timer = time.NewTimer(t.timeout)
	}
	return t
}

// C is the channel of the idle deadline; nil (never ready) without a timeout.
func (t *idleTracker) C() <-chan time.Time {
	if t.timer == nil {
		return nil
	}
	return t.timer.C
}

// check looks at leases (removing dead ones) and connections, and reports
// whether the server has been unused for the idle timeout. When it cannot
// tell, it counts the server as used.
func (t *idleTracker) check() bool {
	now := time.Now()
	leases, lerr := statedir.LiveLeases(t.stateDir)
	conns, cerr := establishedClients(t.port)
	if lerr != nil {
		t.logf("idle check: %v", lerr)
	}
	if cerr != nil {
		t.logf("idle check: %v", cerr)
	}
	if leases > 0 || conns > 0 || lerr != nil || cerr != nil {
		t.lastUsed = now
	}
	if t.timeout <= 0 {
		return false
	}
	left := t.lastUsed.Add(t.timeout).Sub(now)
	if left <= 0 {
		return true
	}
	t.timer.Reset(left)
	return false
}

// used records a use now (a lease was just added), without looking.
func (t *idleTracker) used() {
	t.lastUsed = time.Now()
	if t.timer != nil {
		t.timer.Reset(t.timeout)
	}
}

func (t *idleTracker) stop() {
	if t.timer != nil {
		t.timer.Stop()
	}
}
