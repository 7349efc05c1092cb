package supervisor

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// Rows of docs/faults.md: kill -9 of OpenCode and of the supervisor at each
// phase. Nothing is left running that oca cannot account for, one server
// serves the account afterwards, and the status says what happened.

// TestKill9Opencode: OpenCode killed with SIGKILL while starting and when
// ready. The supervisor stops what is left of its process group, says
// "signal: killed" in the status, and starts one new OpenCode. (In phase
// restarting no OpenCode runs: its group was stopped before the backoff.)
func TestKill9Opencode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phase string
		env   map[string]string
	}{
		{PhaseStarting, map[string]string{"FAKE_MODE": "slow", "FAKE_DELAY": "1500ms", "FAKE_CHILD": "1"}},
		{PhaseReady, map[string]string{"FAKE_MODE": "ok", "FAKE_CHILD": "1"}},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			t.Parallel()
			a := newAccount(t, "kill-oc-"+tc.phase)
			cfg := a.withEnv(tc.env)
			s := startServe(t, cfg)
			var st Status
			testsys.Eventually(t, testsys.OpencodeWait(), "opencode in phase "+tc.phase, func() bool {
				var err error
				st, err = ReadStatus(cfg.StateDir)
				return err == nil && st.Phase == tc.phase && st.OpencodePID != 0 && len(procfs.GroupMembers(st.OpencodePGID)) == 2
			})
			if err := syscall.Kill(st.OpencodePID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			var now Status
			testsys.Eventually(t, testsys.OpencodeWait(), "a new opencode, ready", func() bool {
				now, _ = ReadStatus(cfg.StateDir)
				return now.Phase == PhaseReady && now.Restarts == 1
			})
			if now.OpencodePID == st.OpencodePID || !strings.Contains(now.LastError, "signal: killed") {
				t.Errorf("status after kill -9 of opencode: %+v", now)
			}
			if left := procfs.GroupMembers(st.OpencodePGID); len(left) != 0 {
				t.Errorf("the killed opencode's group lives on: %v", left)
			}
			if procs := accountProcs(cfg.DataHome); len(procs) != 2 { // the new fake and its child
				t.Errorf("account processes %v, want the new opencode and its child", procs)
			}
			waitReady(t, cfg, testsys.OpencodeWait())
			if !strings.Contains(s.log.String(), "signal: killed") {
				t.Errorf("log does not say how opencode died:\n%s", s.log.String())
			}
			s.cancel()
			if err := s.wait(t, testsys.OpencodeWait()); err != nil {
				t.Fatal(err)
			}
			noProcessLeft(t, cfg)
		})
	}
}

// TestKill9Supervisor: the supervisor (a separate process, as the hook
// starts it) killed with SIGKILL while OpenCode starts, when it is ready,
// and while it waits to restart a crashed one. The status reads stale; the
// next start (the next shell entering) stops the orphaned OpenCode and
// serves with exactly one supervisor and one server; stop leaves nothing.
func TestKill9Supervisor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phase   string
		env     map[string]string
		backoff time.Duration
	}{
		{PhaseStarting, map[string]string{"FAKE_MODE": "slow", "FAKE_DELAY": "1500ms", "FAKE_CHILD": "1"}, 0},
		{PhaseReady, map[string]string{"FAKE_MODE": "ok", "FAKE_CHILD": "1"}, 0},
		// The first start crashes; the backoff holds it in restarting.
		{PhaseRestarting, map[string]string{"FAKE_MODE": "ok", "FAKE_CRASH_TIMES": "1"}, time.Minute},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			t.Parallel()
			a := newAccount(t, "kill-sup-"+tc.phase)
			cfg := a.cfg
			if tc.backoff > 0 {
				cfg.BackoffMin = tc.backoff
			}
			env := tc.env
			if _, ok := env["FAKE_CRASH_TIMES"]; ok {
				env["FAKE_COUNTER"] = filepath.Join(t.TempDir(), "starts")
			}
			args := serveArgs(t, cfg, env)
			stopAtEnd(t, cfg)
			if ok, err := Ensure(cfg, bins.ocaserve, args...); !ok || err != nil {
				t.Fatalf("Ensure = %v, %v", ok, err)
			}
			var st Status
			testsys.Eventually(t, testsys.OpencodeWait(), "supervisor in phase "+tc.phase, func() bool {
				var err error
				st, err = ReadStatus(cfg.StateDir)
				if err != nil || st.Phase != tc.phase {
					return false
				}
				switch tc.phase {
				case PhaseRestarting:
					return st.OpencodePID == 0
				default:
					// Named in status.json, not only found among the
					// supervisor's children (ReadStatus does that while
					// the file lags, a moment longer on a loaded
					// machine): the kill below is of a supervisor that
					// recorded its OpenCode.
					file, err := readStatusFile(cfg.StateDir)
					return err == nil && file.OpencodePID == st.OpencodePID &&
						st.OpencodePID != 0 && len(procfs.GroupMembers(st.OpencodePGID)) == 2
				}
			})
			if err := syscall.Kill(st.SupervisorPID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			testsys.Eventually(t, testsys.OpencodeWait(), "supervisor dead, lock released", func() bool {
				held, _ := statedir.LockHeld(cfg.StateDir)
				return !procfs.Alive(st.SupervisorPID, 0) && !held
			})
			cur, err := ReadStatus(cfg.StateDir)
			if err != nil || !cur.Stale || cur.Phase != PhaseStopped || cur.Orphan != (st.OpencodePID != 0) {
				t.Errorf("status after kill -9 of the supervisor in %s: %+v %v", tc.phase, cur, err)
			}

			if ok, err := Ensure(cfg, bins.ocaserve, args...); !ok || err != nil {
				t.Fatalf("Ensure after the kill = %v, %v", ok, err)
			}
			now := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
			if now.SupervisorPID == st.SupervisorPID {
				t.Errorf("status still names the killed supervisor: %+v", now)
			}
			if st.OpencodePID != 0 && (procfs.Alive(st.OpencodePID, st.OpencodeStart) || len(procfs.GroupMembers(st.OpencodePGID)) != 0) {
				t.Errorf("the orphaned opencode (group %d) still runs", st.OpencodePGID)
			}
			testsys.Eventually(t, testsys.OpencodeWait(), "one supervisor", func() bool { return len(supervisors(cfg)) == 1 })
			if servers := procsWithArgs(bins.fake, "--port "+itoa(cfg.Port)); len(servers) != 1 {
				t.Errorf("%d servers on port %d, want 1", len(servers), cfg.Port)
			}
			waitReady(t, cfg, testsys.OpencodeWait())
			if err := Stop(cfg.StateDir, 15*time.Second); err != nil {
				t.Fatal(err)
			}
			noProcessLeft(t, cfg)
			testsys.Eventually(t, testsys.OpencodeWait(), "no supervisor left", func() bool { return len(supervisors(cfg)) == 0 })
		})
	}
}
