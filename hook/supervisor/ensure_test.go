package supervisor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// serveArgs are the arguments of testdata/ocaserve (our `oca serve`) for
// cfg, its password written to a 0600 file, with extra as the account's env
// table.
func serveArgs(t testing.TB, cfg Config, extra map[string]string) []string {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(cfg.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-account", cfg.Account, "-port", itoa(cfg.Port), "-data-home", cfg.DataHome,
		"-state-dir", cfg.StateDir, "-opencode", cfg.Opencode, "-password-file", pwFile,
		"-stop-grace", cfg.StopGrace.String(), "-backoff-min", cfg.BackoffMin.String(),
		"-poll", cfg.PollInterval.String(), "-idle", cfg.IdleTimeout.String(),
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "-env", k+"="+extra[k])
	}
	return args
}

// supervisors lists the live ocaserve processes of the account.
func supervisors(cfg Config) []int {
	return procsWithArgs(bins.ocaserve, "-state-dir "+cfg.StateDir+" ")
}

// ensureMany calls Ensure n times at once and returns how many started a
// supervisor.
func ensureMany(t testing.TB, n int, cfg Config, args []string) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	started := 0
	for range n {
		wg.Go(func() {
			ok, err := Ensure(cfg, bins.ocaserve, args...)
			if err != nil {
				t.Errorf("Ensure: %v", err)
			}
			if ok {
				mu.Lock()
				started++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return started
}

// stopAtEnd stops the account's server when the test ends, whatever happened.
func stopAtEnd(t testing.TB, cfg Config) {
	t.Cleanup(func() {
		if err := Stop(cfg.StateDir, 15*time.Second); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(cfg.StateDir, logName))
			t.Logf("serve.log of %s:\n%s", cfg.Account, b)
		}
	})
}

func TestEnsureConcurrentStartsOne(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "many")
	cfg := a.cfg
	args := serveArgs(t, cfg, map[string]string{"FAKE_MODE": "ok"})
	stopAtEnd(t, cfg)
	started := ensureMany(t, 20, cfg, args)
	if started < 1 {
		t.Fatalf("no Ensure started a supervisor")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitReady(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "one supervisor left", func() bool { return len(supervisors(cfg)) == 1 })
	// WaitReady may see the server healthy before the supervisor does.
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if servers := procsWithArgs(bins.fake, "--port "+itoa(cfg.Port)); len(servers) != 1 {
		t.Errorf("%d servers on port %d", len(servers), cfg.Port)
	}
	if started, err := Ensure(cfg, bins.ocaserve, args...); started || err != nil {
		t.Errorf("Ensure with the supervisor running = %v, %v", started, err)
	}
	fi, err := os.Stat(filepath.Join(cfg.StateDir, logName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("serve.log: %v %v", fi, err)
	}
	log := readFile(t, filepath.Join(cfg.StateDir, logName))
	if !strings.Contains(log, "phase ready") || strings.Contains(log, cfg.Password) {
		t.Errorf("serve.log:\n%s", log)
	}
	// The supervisor runs in a session of its own, in /.
	sup := supervisors(cfg)[0]
	if sid, _ := unix.Getsid(sup); sid != sup {
		t.Errorf("supervisor %d in session %d, not its own", sup, sid)
	}
	if wd, _ := os.Readlink(filepath.Join("/proc", itoa(sup), "cwd")); wd != "/" {
		t.Errorf("supervisor's working directory %q", wd)
	}
	if err := Stop(cfg.StateDir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	noProcessLeft(t, cfg)
	testsys.Eventually(t, testsys.OpencodeWait(), "no supervisor left", func() bool { return len(supervisors(cfg)) == 0 })
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseStopped || st.Stale {
		t.Errorf("after Stop: %+v", st)
	}
	if err := Stop(cfg.StateDir, time.Second); err != nil {
		t.Errorf("Stop of a stopped account: %v", err)
	}
}

func TestStopAfterSupervisorKilled(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "killed")
	cfg := a.cfg
	args := serveArgs(t, cfg, map[string]string{"FAKE_MODE": "ignore-term", "FAKE_CHILD": "1"})
	stopAtEnd(t, cfg)
	if ok, err := Ensure(cfg, bins.ocaserve, args...); !ok || err != nil {
		t.Fatalf("Ensure = %v, %v", ok, err)
	}
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if err := syscall.Kill(st.SupervisorPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "supervisor dead, lock released", func() bool {
		held, _ := statedir.LockHeld(cfg.StateDir)
		return !procfs.Alive(st.SupervisorPID, 0) && !held
	})
	if cur, _ := ReadStatus(cfg.StateDir); !cur.Stale || !cur.Orphan || cur.Phase != PhaseStopped {
		t.Errorf("after kill -9 of the supervisor: %+v", cur)
	}
	// Polled: one probe of a loaded machine's fake can time out (it did
	// once in CI); an orphan that died never answers.
	if !testsys.Poll(testsys.OpencodeWait(), func() bool {
		ok, _ := opencode.Health(context.Background(), cfg.Port, cfg.Password)
		return ok
	}) {
		t.Errorf("orphan no longer serving")
	}
	if err := Stop(cfg.StateDir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	noProcessLeft(t, cfg)
}

func TestEnsureRotatesLog(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "rotate")
	cfg := a.cfg
	args := serveArgs(t, cfg, map[string]string{"FAKE_MODE": "ok"})
	stopAtEnd(t, cfg)
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	old := strings.Repeat("old line\n", maxLog/9+1)
	if err := os.WriteFile(filepath.Join(cfg.StateDir, logName), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := Ensure(cfg, bins.ocaserve, args...); !ok || err != nil {
		t.Fatalf("Ensure = %v, %v", ok, err)
	}
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if got := readFile(t, filepath.Join(cfg.StateDir, logName+".1")); got != old {
		t.Errorf("serve.log.1 has %d bytes, want the old %d", len(got), len(old))
	}
	// The status file says ready a moment before the log does.
	testsys.Eventually(t, testsys.OpencodeWait(), "phase ready in the new serve.log", func() bool {
		return strings.Contains(readFile(t, filepath.Join(cfg.StateDir, logName)), "phase ready")
	})
	if got := readFile(t, filepath.Join(cfg.StateDir, logName)); strings.Contains(got, "old line") {
		t.Errorf("serve.log:\n%s", got)
	}
}

// TestStopRightAfterEnsure: a stop at once after a start (`oca server
// start` then `oca server stop`) came before the new supervisor held its
// lock, found nothing to stop and said stopped, and the supervisor ran on.
// Stop now waits for the supervisor Ensure started, and stops it.
func TestStopRightAfterEnsure(t *testing.T) {
	t.Parallel()
	for i := range 5 {
		a := newAccount(t, "quick"+itoa(i))
		cfg := a.cfg
		stopAtEnd(t, cfg)
		if ok, err := Ensure(cfg, bins.ocaserve, serveArgs(t, cfg, map[string]string{"FAKE_MODE": "ok"})...); !ok || err != nil {
			t.Fatalf("Ensure = %v, %v", ok, err)
		}
		if err := Stop(cfg.StateDir, 30*time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		testsys.Eventually(t, 10*time.Second, "the supervisor started just before the stop is gone", func() bool {
			return len(supervisors(cfg)) == 0
		})
		if held, _ := statedir.LockHeld(cfg.StateDir); held {
			t.Errorf("round %d: the lock is held after the stop", i)
		}
	}
}

// TestStatusOfARestartedFailingServer is issue 18's stale status: after
// `oca server restart` of a server whose supervisor gave up, `oca server
// wait` read the old "failing" at once, while the new supervisor had not
// yet taken its lock. The status of a supervisor that is gone, while the
// one Ensure started lives, is not the current one: it reads "starting";
// the old reason comes back once nothing starts.
func TestStatusOfARestartedFailingServer(t *testing.T) {
	dir := t.TempDir()
	// Written as the wait began (the old supervisor gave up just then).
	if err := writeStatus(dir, Status{Account: "x", Phase: PhaseFailing, LastError: "the old reason", SupervisorPID: 1 << 22, UpdatedAt: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	// A supervisor between its start and its lock.
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	markStarting(dir, child.Process.Pid)
	st, err := ReadStatus(dir)
	if err != nil || st.Phase != PhaseStarting || st.LastError != "" || st.SupervisorPID != child.Process.Pid {
		t.Errorf("status while a supervisor starts: %+v, %v", st, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cfg := Config{Account: "x", Port: testsys.FreePort(t), StateDir: dir}
	if err := WaitReady(ctx, cfg); err == nil || strings.Contains(err.Error(), "the old reason") {
		t.Errorf("WaitReady = %v; want no old reason", err)
	}
	child.Process.Kill()
	child.Wait()
	if st, _ := ReadStatus(dir); st.Phase != PhaseFailing || st.LastError != "the old reason" {
		t.Errorf("status once nothing starts: %+v", st)
	}
}
