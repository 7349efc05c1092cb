package supervisor

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

func TestServeReadyAndStop(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "ok")
	envFile := filepath.Join(t.TempDir(), "env")
	cfg := a.cfg
	// A provider key exported in the starting shell must not reach OpenCode.
	shellEnv := append(os.Environ(), "ANTHROPIC_API_KEY=sk-ant-from-some-shell")
	cfg.Env = BuildEnv(shellEnv, cfg, map[string]string{"FAKE_MODE": "ok", "FAKE_ENV_FILE": envFile, "FAKE_PRINT_SECRET": "1"})
	s := startServe(t, cfg)
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if ok, err := opencode.Health(context.Background(), cfg.Port, cfg.Password); !ok {
		t.Fatalf("not healthy: %v", err)
	}
	if ok, _ := opencode.Health(context.Background(), cfg.Port, "wrong"); ok {
		t.Errorf("healthy with a wrong password")
	}
	if st.SupervisorPID != os.Getpid() || st.OpencodePID == 0 || st.OpencodePGID != st.OpencodePID ||
		st.Port != cfg.Port || st.URL != opencode.URL(cfg.Port) || st.ReadyAt.IsZero() || st.StartedAt.IsZero() || st.Restarts != 0 {
		t.Errorf("status %+v", st)
	}
	if pg, _ := syscall.Getpgid(st.OpencodePID); pg != st.OpencodePID {
		t.Errorf("opencode not in its own process group: pgid %d", pg)
	}
	env := envMap(strings.Split(readFile(t, envFile), "\n"))
	if _, ok := env["ANTHROPIC_API_KEY"]; ok {
		t.Errorf("a shell's provider key reached OpenCode")
	}
	if env["XDG_DATA_HOME"] != cfg.DataHome || env["OPENCODE_SERVER_PASSWORD"] != cfg.Password ||
		env["TMPDIR"] != filepath.Join(cfg.StateDir, "tmp") || env["HOME"] != os.Getenv("HOME") {
		t.Errorf("OpenCode's environment: %v", env)
	}
	for _, name := range []string{"", "leases", "tmp"} {
		fi, err := os.Stat(filepath.Join(cfg.StateDir, name))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s/%s: %v %v", cfg.StateDir, name, fi.Mode(), err)
		}
	}
	s.cancel()
	if err := s.wait(t, testsys.OpencodeWait()); err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	st, _ = ReadStatus(cfg.StateDir)
	if st.Phase != PhaseStopped || st.Stale || st.OpencodePID != 0 {
		t.Errorf("after stop: %+v", st)
	}
	noProcessLeft(t, cfg)
	// Free once Serve returned; but a child another test forks in this
	// process holds a copy of the descriptor until it execs (a moment,
	// longer on a loaded machine).
	testsys.Eventually(t, testsys.Loaded(5*time.Second), "the lock free after Serve returned", func() bool {
		held, _ := statedir.LockHeld(cfg.StateDir)
		return !held
	})
	// Nothing secret anywhere: log, status, state dir.
	for where, text := range map[string]string{"log": s.log.String(), "status": readFile(t, filepath.Join(cfg.StateDir, statusName))} {
		if strings.Contains(text, cfg.Password) || strings.Contains(text, "sk-ant-fake-printed") {
			t.Errorf("secret in %s:\n%s", where, text)
		}
	}
	if !strings.Contains(s.log.String(), "password is [REDACTED]") {
		t.Errorf("output not logged redacted:\n%s", s.log.String())
	}
}

func TestServeAlreadyRunning(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "twice")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	begin := time.Now()
	err := Serve(context.Background(), cfg, nil)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Serve: %v", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("second Serve took %s", d)
	}
	if started, err := Ensure(cfg, "/nonexistent/oca", "serve"); started || err != nil {
		t.Errorf("Ensure with a running supervisor = %v, %v", started, err)
	}
}

func TestServeCrashLoopGivesUp(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "crash")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "crash", "FAKE_PRINT_SECRET": "1"})
	cfg.MaxCrashes = 4
	s := startServe(t, cfg)
	// WaitReady gives up with the supervisor, long before its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := WaitReady(ctx, cfg); err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "crashed 4 times") {
		t.Errorf("WaitReady = %v", err)
	}
	err := s.wait(t, testsys.OpencodeWait())
	if err == nil || !strings.Contains(err.Error(), "crashed 4 times") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Serve = %v", err)
	}
	st, _ := ReadStatus(cfg.StateDir)
	if st.Phase != PhaseFailing || st.Restarts != 3 || !strings.Contains(st.LastError, "exit status 3") ||
		!strings.Contains(st.LastError, "fake crash") {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(strings.Join(st.LastOutput, "\n"), "fake crash") {
		t.Errorf("last output %q", st.LastOutput)
	}
	if strings.Contains(readFile(t, filepath.Join(cfg.StateDir, statusName)), cfg.Password) {
		t.Errorf("password in status.json")
	}
	if n := strings.Count(s.log.String(), "restart "); n != 3 {
		t.Errorf("%d restarts logged:\n%s", n, s.log.String())
	}
	noProcessLeft(t, cfg)
}

func TestServeRecoversAfterCrashes(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "flaky")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_CRASH_TIMES": "2", "FAKE_COUNTER": filepath.Join(t.TempDir(), "n")})
	startServe(t, cfg)
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if st.Restarts != 2 || !strings.Contains(st.LastError, "exit status 3") {
		t.Errorf("status %+v", st)
	}
}

func TestServeNeverReady(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"never", "hang"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			a := newAccount(t, mode)
			cfg := a.withEnv(map[string]string{"FAKE_MODE": mode})
			cfg.ReadyTimeout, cfg.MaxCrashes = 500*time.Millisecond, 2
			s := startServe(t, cfg)
			err := s.wait(t, testsys.OpencodeWait())
			if err == nil || !strings.Contains(err.Error(), "not healthy after 500ms") {
				t.Fatalf("Serve = %v", err)
			}
			if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseFailing || st.Restarts != 1 {
				t.Errorf("status %+v", st)
			}
			noProcessLeft(t, cfg)
		})
	}
}

func TestHealthWebPageIsNotHealthy(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "web")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	// The fake answers every unknown path 200 with a page, like OpenCode.
	resp, err := opencode.Client{Port: cfg.Port, Password: cfg.Password}.Do(context.Background(), "GET", "/no/such/path")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("unknown path: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestServeStopEscalates(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "stubborn")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ignore-term", "FAKE_CHILD": "1"})
	s := startServe(t, cfg)
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	testsys.Eventually(t, testsys.OpencodeWait(), "child started", func() bool { return len(procfs.GroupMembers(st.OpencodePGID)) == 2 })
	s.cancel()
	if err := s.wait(t, testsys.OpencodeWait()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.log.String(), "sending SIGKILL") || !strings.Contains(s.log.String(), "SIGTERM again") {
		t.Errorf("no escalation logged:\n%s", s.log.String())
	}
	if n := procfs.GroupMembers(st.OpencodePGID); len(n) != 0 {
		t.Errorf("processes left in the group: %v", n)
	}
	noProcessLeft(t, cfg)
}

func TestServePortTaken(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "taken")
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(a.cfg.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	s := startServe(t, cfg)
	err = s.wait(t, testsys.OpencodeWait())
	var pie *opencode.PortInUseError
	if !errors.As(err, &pie) || pie.Port != cfg.Port || pie.PID != os.Getpid() {
		t.Fatalf("Serve = %v", err)
	}
	for _, want := range []string{"port " + itoa(cfg.Port), "pid " + itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseFailing || !strings.Contains(st.LastError, "port "+itoa(cfg.Port)) {
		t.Errorf("status %+v", st)
	}
}

func TestServeIdle(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "idle")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	cfg.IdleTimeout = 700 * time.Millisecond
	shell := exec.Command("sleep", "60")
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	defer shell.Process.Kill()
	if err := statedir.AddLease(cfg.StateDir, shell.Process.Pid, ""); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())

	// With a live lease it stays, and with a client connection too.
	time.Sleep(3 * cfg.IdleTimeout)
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseReady {
		t.Fatalf("stopped with a live lease: %+v\n%s", st, s.log.String())
	}
	// A client of another process (this one is the supervisor, whose own
	// connections are no use).
	conn := exec.Command("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+itoa(cfg.Port)+"; sleep 60")
	if err := conn.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { conn.Process.Kill(); conn.Wait() }()
	testsys.Eventually(t, 5*time.Second, "the client connected", func() bool { n, _ := establishedClients(cfg.Port); return n == 1 })
	if err := statedir.DropLease(cfg.StateDir, shell.Process.Pid); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * cfg.IdleTimeout)
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseReady {
		t.Fatalf("stopped with a client connected: %+v", st)
	}
	// A lease whose shell died does not count.
	if err := statedir.AddLease(cfg.StateDir, shell.Process.Pid, ""); err != nil {
		t.Fatal(err)
	}
	shell.Process.Kill()
	shell.Wait()
	conn.Process.Kill()
	conn.Wait()
	if err := s.wait(t, testsys.OpencodeWait()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.log.String(), "no shell and no client") {
		t.Errorf("idle stop not logged:\n%s", s.log.String())
	}
	if n, _ := os.ReadDir(statedir.LeasesDir(cfg.StateDir)); len(n) != 1 { // the anchor
		t.Errorf("dead lease not removed: %v", n)
	}
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseStopped {
		t.Errorf("status %+v", st)
	}
	noProcessLeft(t, cfg)
}

// TestServeIdleFromLastUse: the idle timeout runs from when the last shell
// left, not from the supervisor's last look before that. (With checks only
// at the idle deadline, it used to stop up to a whole timeout early.)
func TestServeIdleFromLastUse(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "idle-last")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	cfg.IdleTimeout = 3 * time.Second
	cfg.PollInterval = time.Minute // only the idle deadline looks
	shell := exec.Command("sleep", "60")
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	defer shell.Process.Kill()
	if err := statedir.AddLease(cfg.StateDir, shell.Process.Pid, ""); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	time.Sleep(4 * time.Second) // the shell stays a while, past one idle deadline
	left := time.Now()
	if err := statedir.DropLease(cfg.StateDir, shell.Process.Pid); err != nil {
		t.Fatal(err)
	}
	st := Status{Phase: PhaseReady}
	testsys.Eventually(t, testsys.OpencodeWait(), "the server stopping once idle", func() bool {
		st, _ = ReadStatus(cfg.StateDir)
		return st.Phase != PhaseReady
	})
	if idle := time.Since(left); idle < cfg.IdleTimeout {
		t.Errorf("stopped %s after the last shell left, want at least the idle timeout %s (phase %s)", idle.Round(time.Millisecond), cfg.IdleTimeout, st.Phase)
	}
	if err := s.wait(t, testsys.OpencodeWait()); err != nil {
		t.Fatal(err)
	}
}

// TestServeIdleFromReady: idle time runs from when the server became
// ready, not from the supervisor's start: a server that starts slower than
// its idle timeout still comes up, and is there for a client to attach.
func TestServeIdleFromReady(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "idle-ready")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "slow", "FAKE_DELAY": "2s"})
	cfg.IdleTimeout = time.Second
	s := startServe(t, cfg)
	var st Status
	testsys.Eventually(t, testsys.OpencodeWait(), "the server ready or the supervisor gone", func() bool {
		st, _ = ReadStatus(cfg.StateDir)
		return st.Phase == PhaseReady || st.Phase == PhaseStopped && st.SupervisorPID != 0
	})
	if st.Phase != PhaseReady {
		t.Fatalf("stopped for idleness before it was ever ready: %+v\n%s", st, s.log.String())
	}
	if err := s.wait(t, testsys.OpencodeWait()); err != nil {
		t.Fatal(err)
	}
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseStopped {
		t.Errorf("not stopped once idle after ready: %+v", st)
	}
}

func TestServeReloadsCredentials(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "creds")
	record := filepath.Join(t.TempDir(), "record")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record})
	auth := account.AuthFile(cfg.DataHome)
	if err := os.WriteFile(auth, []byte(`{"anthropic":{"type":"api","key":"sk-ant-fake-1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	disposes := func() int { b, _ := os.ReadFile(record); return strings.Count(string(b), "dispose") }
	time.Sleep(400 * time.Millisecond)
	if n := disposes(); n != 0 {
		t.Fatalf("%d disposes before any change", n)
	}
	// Written in place, in several writes: one dispose after the debounce.
	f, err := os.OpenFile(auth, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"anthropic":{"type":"api",`)
	time.Sleep(50 * time.Millisecond)
	f.WriteString(`"key":"sk-ant-fake-2"}}`)
	f.Close()
	testsys.Eventually(t, testsys.OpencodeWait(), "dispose after an in-place write", func() bool { return disposes() == 1 })
	// Replaced by rename, as `opencode auth login` may do.
	tmp := auth + ".tmp"
	if err := os.WriteFile(tmp, []byte(`{"anthropic":{"type":"api","key":"sk-ant-fake-3"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, auth); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "dispose after a rename", func() bool { return disposes() == 2 })
	// Touched, same content: nothing to do.
	now := time.Now()
	os.Chtimes(auth, now, now)
	os.WriteFile(auth, []byte(`{"anthropic":{"type":"api","key":"sk-ant-fake-3"}}`), 0o600)
	time.Sleep(600 * time.Millisecond)
	if n := disposes(); n != 2 {
		t.Errorf("%d disposes after rewriting the same content", n)
	}
	if strings.Contains(s.log.String(), "sk-ant-fake") {
		t.Errorf("key in log:\n%s", s.log.String())
	}
}

func TestServeStopsOrphan(t *testing.T) {
	t.Parallel()
	// An OpenCode left by a supervisor killed with -9: in its own group,
	// on the port, recorded in status.json with a supervisor that is gone,
	// or not recorded at all (killed before it wrote the status).
	for _, recorded := range []bool{true, false} {
		t.Run(map[bool]string{true: "recorded", false: "unrecorded"}[recorded], func(t *testing.T) {
			t.Parallel()
			a := newAccount(t, "orphan")
			cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_CHILD": "1"})
			orphan := exec.Command(bins.fake, "serve", "--hostname", "127.0.0.1", "--port", itoa(cfg.Port))
			orphan.Env = overlayEnv(cfg.Env, cfg)
			orphan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := orphan.Start(); err != nil {
				t.Fatal(err)
			}
			go orphan.Wait()
			t.Cleanup(func() { syscall.Kill(-orphan.Process.Pid, syscall.SIGKILL) })
			testsys.Eventually(t, testsys.OpencodeWait(), "orphan healthy", func() bool { ok, _ := opencode.Health(context.Background(), cfg.Port, cfg.Password); return ok })
			pid := orphan.Process.Pid
			if recorded {
				if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
					t.Fatal(err)
				}
				dead := exec.Command("true")
				dead.Run()
				if err := writeStatus(cfg.StateDir, Status{Account: cfg.Account, Phase: PhaseReady, Port: cfg.Port,
					SupervisorPID: dead.Process.Pid, OpencodePID: pid, OpencodePGID: pid, OpencodeStart: procfs.StartTime(pid)}); err != nil {
					t.Fatal(err)
				}
				if st, _ := ReadStatus(cfg.StateDir); !st.Stale || !st.Orphan {
					t.Errorf("orphan not reported: %+v", st)
				}
			}
			s := startServe(t, cfg)
			st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
			if st.OpencodePID == pid || procfs.Alive(pid, 0) || len(procfs.GroupMembers(pid)) != 0 {
				t.Errorf("orphan group %d still there (status %+v)", pid, st)
			}
			if procs := accountProcs(cfg.DataHome); len(procs) != 2 { // the new fake and its child
				t.Errorf("account processes %v", procs)
			}
			if !recorded && !strings.Contains(s.log.String(), "of an earlier supervisor: stopping it") {
				t.Errorf("log:\n%s", s.log.String())
			}
		})
	}
}

func TestServeSparesStrangerOnPort(t *testing.T) {
	t.Parallel()
	// An opencode started by hand in a shell of the project: same data
	// home, not the supervisor's TMPDIR. It is named, not killed.
	a := newAccount(t, "stranger")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	byHand := exec.Command(bins.fake, "serve", "--hostname", "127.0.0.1", "--port", itoa(cfg.Port))
	byHand.Env = append(os.Environ(), "XDG_DATA_HOME="+cfg.DataHome, "FAKE_MODE=ok")
	byHand.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := byHand.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { byHand.Process.Kill(); byHand.Wait() }()
	testsys.Eventually(t, testsys.OpencodeWait(), "listening", func() bool { _, busy := opencode.PortHolder(cfg.Port); return busy })
	err := startServe(t, cfg).wait(t, testsys.OpencodeWait())
	var pie *opencode.PortInUseError
	if !errors.As(err, &pie) || pie.PID != byHand.Process.Pid || !strings.Contains(pie.Cmd, "serve") {
		t.Fatalf("Serve = %v", err)
	}
	if !procfs.Alive(byHand.Process.Pid, 0) {
		t.Errorf("the stranger was killed")
	}
}

func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	err := Serve(context.Background(), Config{Account: "x", Port: 70000, DataHome: "rel", StateDir: ""}, nil)
	for _, want := range []string{"port 70000", "data home", "state dir", "opencode"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Serve with a bad config = %v, want it to mention %q", err, want)
		}
	}
}

func TestServeMissingBinary(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "nobin")
	cfg := a.withEnv(nil)
	cfg.Opencode, cfg.MaxCrashes = filepath.Join(t.TempDir(), "opencode"), 2
	err := startServe(t, cfg).wait(t, testsys.OpencodeWait())
	if err == nil || !strings.Contains(err.Error(), cfg.Opencode) {
		t.Errorf("Serve = %v", err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
