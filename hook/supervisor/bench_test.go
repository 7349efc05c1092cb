package supervisor

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// BenchmarkEnsureRunning is what entering a project costs the hook when the
// account's supervisor already runs: one lock probe. It also reports the
// supervisor's own memory.
func BenchmarkEnsureRunning(b *testing.B) {
	a := newAccount(b, "bench")
	cfg := a.cfg
	args := serveArgs(b, cfg, map[string]string{"FAKE_MODE": "ok"})
	stopAtEnd(b, cfg)
	if _, err := Ensure(cfg, bins.ocaserve, args...); err != nil {
		b.Fatal(err)
	}
	st := waitPhase(b, cfg.StateDir, PhaseReady, 20*time.Second)
	for b.Loop() {
		started, err := Ensure(cfg, bins.ocaserve, args...)
		if started || err != nil {
			b.Fatalf("Ensure = %v, %v", started, err)
		}
	}
	b.ReportMetric(rss(b, st.SupervisorPID), "supervisor-RSS-MB")
}

// BenchmarkEnterLeaveProject is the hook's whole server work on entering
// a project whose server runs (the shell's lease and the Ensure probe) and
// on leaving it again (dropping the lease).
func BenchmarkEnterLeaveProject(b *testing.B) {
	a := newAccount(b, "enter")
	cfg := a.cfg
	args := serveArgs(b, cfg, map[string]string{"FAKE_MODE": "ok"})
	stopAtEnd(b, cfg)
	if _, err := Ensure(cfg, bins.ocaserve, args...); err != nil {
		b.Fatal(err)
	}
	waitPhase(b, cfg.StateDir, PhaseReady, 20*time.Second)
	// The lease is the shell's, a single-threaded process like this one.
	shell := exec.Command("sleep", "600")
	if err := shell.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { shell.Process.Kill(); shell.Wait() }()
	pid := shell.Process.Pid
	for b.Loop() {
		if err := statedir.AddLease(cfg.StateDir, pid, ""); err != nil {
			b.Fatal(err)
		}
		if started, err := Ensure(cfg, bins.ocaserve, args...); started || err != nil {
			b.Fatalf("Ensure = %v, %v", started, err)
		}
		if err := statedir.DropLease(cfg.StateDir, pid); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdStart compares, with the real OpenCode, cd → healthy through
// Ensure + WaitReady (a detached supervisor starting OpenCode) against
// `opencode serve` started by hand with the same environment, data home
// and port, polled the same way. The two alternate in each iteration; the
// ratio of their total times is reported. Run with -benchtime=5x or so.
func BenchmarkColdStart(b *testing.B) {
	cfg, args := realAccount(b, "cold", "sk-ant-fake-cold")
	stopAtEnd(b, cfg)
	env := BuildEnv(os.Environ(), cfg, offlineEnv)
	if err := os.MkdirAll(cfg.StateDir+"/tmp", 0o700); err != nil {
		b.Fatal(err)
	}

	viaEnsure := func() (time.Duration, Status) {
		begin := time.Now()
		if started, err := Ensure(cfg, bins.ocaserve, args...); !started || err != nil {
			b.Fatalf("Ensure = %v, %v", started, err)
		}
		waitReady(b, cfg, 120*time.Second)
		d := time.Since(begin)
		st := waitPhase(b, cfg.StateDir, PhaseReady, 10*time.Second)
		return d, st
	}
	stopEnsured := func() {
		if err := Stop(cfg.StateDir, 20*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	byHand := func() time.Duration {
		begin := time.Now()
		cmd := exec.Command(cfg.Opencode, "serve", "--hostname", "127.0.0.1", "--port", itoa(cfg.Port))
		cmd.Env, cmd.Dir = env, cfg.StateDir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		waitReady(b, Config{Account: "by hand", Port: cfg.Port, Password: cfg.Password}, 120*time.Second)
		d := time.Since(begin)
		stopGroup(cmd.Process.Pid, 2*time.Second, func() bool { return !procfs.Alive(cmd.Process.Pid, 0) }, b.Logf)
		cmd.Wait()
		testsys.Eventually(b, 10*time.Second, "port free", func() bool { _, busy := opencode.PortHolder(cfg.Port); return !busy })
		return d
	}

	// Warm up: the first start of a data home creates its database.
	_, st := viaEnsure()
	supRSS, ocRSS := rss(b, st.SupervisorPID), rss(b, st.OpencodePID)
	stopEnsured()
	byHand()

	var ensured, manual time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			d, _ := viaEnsure()
			ensured += d
			stopEnsured()
			manual += byHand()
		} else {
			manual += byHand()
			d, _ := viaEnsure()
			ensured += d
			stopEnsured()
		}
		i++
	}
	b.ReportMetric(float64(ensured.Milliseconds())/float64(i), "ensure-ms")
	b.ReportMetric(float64(manual.Milliseconds())/float64(i), "manual-ms")
	b.ReportMetric(float64(ensured)/float64(manual), "ensure/manual")
	b.ReportMetric(supRSS, "supervisor-RSS-MB")
	b.ReportMetric(ocRSS, "opencode-RSS-MB")
}

// rss is the resident memory of pid in MiB.
func rss(b *testing.B, pid int) float64 {
	b.Helper()
	n, err := procfs.RSS(pid)
	if err != nil {
		b.Errorf("rss of %d: %v", pid, err)
	}
	return float64(n) / (1 << 20)
}
