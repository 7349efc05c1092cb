package supervisor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/testsys"
)

// OpenCode 2's stable line, as its documentation and source describe it
// (no stable binary is at hand): the fake OpenCode with FAKE_VERSION=2.x.
// (The 2.0 preview, for real: v2_e2e_test.go.)

// stableV2 is a test account served by the fake OpenCode 2, with extra in
// its environment.
func stableV2(t *testing.T, name string, extra map[string]string) Config {
	t.Helper()
	a := newAccount(t, name)
	a.cfg.StateHome = filepath.Join(t.TempDir(), "statehome")
	a.cfg.ConfigDir = filepath.Join(t.TempDir(), "config")
	if err := os.MkdirAll(a.cfg.ConfigDir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FAKE_VERSION": "2.1.0"}
	for k, v := range extra {
		env[k] = v
	}
	cfg := a.withEnv(env)
	cache := filepath.Join(t.TempDir(), "versions.json")
	cfg.Detect = func() (opencode.Version, error) {
		return opencode.Detect(bins.fake, cache, []string{"PATH=" + os.Getenv("PATH"), "FAKE_VERSION=2.1.0"})
	}
	return cfg
}

// v2Client runs the fake OpenCode 2 as a client in the account's
// environment (its state home), as a client started without oca would.
func v2Client(t *testing.T, cfg Config, args ...string) string {
	t.Helper()
	cmd := exec.Command(bins.fake, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "FAKE_VERSION=2.1.0",
		"XDG_DATA_HOME=" + cfg.DataHome, "XDG_STATE_HOME=" + cfg.StateHome}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("opencode %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestServeStableV2: the server of an account on OpenCode 2 is `serve
// --hostname 127.0.0.1 --port PORT` with the account's password, ready
// when GET /api/info answers, registered by oca in the account's state
// home (service.json: its url, pid and password), which V2's own
// discovery finds; the registration goes when the server dies, and the
// restarted one is registered again.
func TestServeStableV2(t *testing.T) {
	t.Parallel()
	cfg := stableV2(t, "stable", nil)
	startServe(t, cfg)
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if st.Version != "OpenCode opencode v2.1.0" {
		t.Errorf("status names %q", st.Version)
	}
	v := opencode.Version{Major: 2}
	reg, ok := v.Registered(cfg.StateHome)
	if !ok || reg.PID != st.OpencodePID || reg.URL != opencode.URL(cfg.Port) || reg.Password != cfg.Password {
		t.Fatalf("registration %+v, %v; want pid %d, %s, the account's password", reg, ok, st.OpencodePID, opencode.URL(cfg.Port))
	}
	if fi, err := os.Stat(filepath.Join(cfg.StateHome, "opencode", "service.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("service.json: %v, %v; want 0600", fi, err)
	}
	if got := v2Client(t, cfg, "service", "status"); strings.TrimSpace(got) != "running "+opencode.URL(cfg.Port) {
		t.Errorf("service status in the account's environment: %q", got)
	}
	if got := v2Client(t, cfg, "run", "hi"); !strings.Contains(got, "from the server of "+cfg.DataHome) {
		t.Errorf("run without oca, through V2's discovery: %q", got)
	}

	// Killed: unregistered at once, registered again once restarted.
	if err := os.Remove(filepath.Join(cfg.StateHome, "opencode", "service.json")); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Registered(cfg.StateHome); ok {
		t.Fatal("still registered")
	}
	if err := syscall.Kill(st.OpencodePID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	after := testsys.Await(t, testsys.OpencodeWait(), "a new ready server", func() (Status, bool) {
		s, _ := ReadStatus(cfg.StateDir)
		return s, s.Phase == PhaseReady && s.OpencodePID != st.OpencodePID && s.OpencodePID != 0
	})
	testsys.Eventually(t, testsys.OpencodeWait(), "the new server registered", func() bool {
		reg, ok := v.Registered(cfg.StateHome)
		return ok && reg.PID == after.OpencodePID
	})
}

// TestServeV2ReloadRestartsWhenIdle: OpenCode 2 has no reload route, so a
// change in the config dir restarts its server, once no session is busy.
func TestServeV2ReloadRestartsWhenIdle(t *testing.T) {
	t.Parallel()
	busy := filepath.Join(t.TempDir(), "busy")
	os.WriteFile(busy, nil, 0o600)
	cfg := stableV2(t, "reload2", map[string]string{"FAKE_BUSY": busy})
	s := startServe(t, cfg)
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	os.WriteFile(filepath.Join(cfg.ConfigDir, "opencode.json"), []byte(`{"model":"a/b"}`), 0o600)
	testsys.Eventually(t, testsys.OpencodeWait(), "the wait logged", func() bool {
		return strings.Contains(s.log.String(), "waiting until 1 busy session(s) finish")
	})
	if now, _ := ReadStatus(cfg.StateDir); now.OpencodePID != st.OpencodePID {
		t.Fatalf("restarted while a session was busy: %d, was %d", now.OpencodePID, st.OpencodePID)
	}
	os.Remove(busy)
	after := testsys.Await(t, testsys.OpencodeWait(), "a restarted server", func() (Status, bool) {
		now, _ := ReadStatus(cfg.StateDir)
		return now, now.Phase == PhaseReady && now.OpencodePID != 0 && now.OpencodePID != st.OpencodePID
	})
	if after.Restarts != 0 {
		t.Errorf("a reload counted as a crash: %d restarts", after.Restarts)
	}
	if !strings.Contains(s.log.String(), "cannot reload a running server") {
		t.Errorf("the log does not say why it restarted:\n%s", s.log.String())
	}
}
