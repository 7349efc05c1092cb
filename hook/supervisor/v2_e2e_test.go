package supervisor

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// OpenCode 2, for real: the 2.0 preview CLI from npm
// (@opencode-ai/cli-linux-x64, binary lildax) as the accounts' OpenCode.

// v2World is a user's home with accounts served by the preview.
type v2World struct {
	bin   string // lildax
	home  string // HOME: the user's real state home is home/.local/state
	cache string // oca's version cache
}

func newV2World(t *testing.T) v2World {
	t.Helper()
	bin := testsys.NeedOpencode2Preview(t)
	dir := t.TempDir()
	w := v2World{bin: bin, home: filepath.Join(dir, "home"), cache: filepath.Join(dir, "versions.json")}
	if err := os.MkdirAll(w.home, 0o700); err != nil {
		t.Fatal(err)
	}
	return w
}

// base is the caller's environment the servers are built from: the
// world's HOME, no XDG variable of its own.
func (w v2World) base() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.home, "LANG=C.UTF-8"}
}

// account is a V2 account of the world: its data and state homes apart.
func (w v2World) account(t *testing.T, name string) Config {
	t.Helper()
	a := newAccount(t, name)
	cfg := a.cfg
	cfg.Opencode = w.bin
	cfg.StateHome = filepath.Join(filepath.Dir(cfg.DataHome), "statehome")
	cfg.Detect = func() (opencode.Version, error) { return opencode.Detect(w.bin, w.cache, w.base()) }
	cfg.StopGrace = 2 * time.Second
	cfg.BackoffMin = 200 * time.Millisecond
	cfg.PollInterval = time.Second
	cfg.Env = BuildEnv(w.base(), cfg, nil)
	return cfg
}

// client runs the preview as a client in an account's environment (no
// oca in between): V2's own discovery.
func (w v2World) client(t *testing.T, cfg Config, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testsys.OpencodeWait())
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Env = append(w.base(), "XDG_DATA_HOME="+cfg.DataHome, "XDG_STATE_HOME="+cfg.StateHome)
	cmd.Dir = w.home
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lildax %s in %s's environment: %v\n%s", strings.Join(args, " "), cfg.Account, err, out)
	}
	return string(out)
}

// v2Servers are the preview's server processes whose state home is
// stateHome.
func v2Servers(bin, stateHome string) []int {
	var out []int
	for _, pid := range procfs.Pids() {
		args := procfs.Cmdline(pid)
		if len(args) > 1 && args[0] == bin && args[1] == "serve" && procfs.EnvHas(pid, "XDG_STATE_HOME="+stateHome) && procfs.Alive(pid, 0) {
			out = append(out, pid)
		}
	}
	return out
}

// TestRealV2TwoAccounts: two accounts on the 2.0 preview, each served by
// oca's supervisor on its port, registered in its own state home: V2's own
// discovery (service status, api GET, run without oca) in each account's
// environment reaches that account's server alone, nothing registers in
// the user's shared state home, no client starts a second server, and a
// kill -9 of a server is healed as on OpenCode 1.x.
func TestRealV2TwoAccounts(t *testing.T) {
	w := newV2World(t)
	a, b := w.account(t, "v2a"), w.account(t, "v2b")
	wait := testsys.OpencodeWait()
	startServe(t, a)
	startServe(t, b)
	waitReady(t, a, wait)
	waitReady(t, b, wait)

	for _, cfg := range []Config{a, b} {
		st, _ := ReadStatus(cfg.StateDir)
		if !strings.Contains(st.Version, "OpenCode 2.0 preview") {
			t.Errorf("%s: status names %q, want the 2.0 preview", cfg.Account, st.Version)
		}
		// V2's discovery, as a client started without oca finds it.
		if got := w.client(t, cfg, "service", "status"); !strings.Contains(got, "running "+opencode.URL(cfg.Port)) {
			t.Errorf("%s: lildax service status says %q, want running %s", cfg.Account, got, opencode.URL(cfg.Port))
		}
		if got := w.client(t, cfg, "api", "GET", "/api/health"); !strings.Contains(got, `"healthy":true`) {
			t.Errorf("%s: lildax api GET /api/health says %q", cfg.Account, got)
		}
		reg, ok := opencode.Version{Major: 2, Preview: true}.Registered(cfg.StateHome)
		if !ok || reg.URL != opencode.URL(cfg.Port) || reg.PID != st.OpencodePID {
			t.Errorf("%s: registration %+v, %v; want %s and pid %d", cfg.Account, reg, ok, opencode.URL(cfg.Port), st.OpencodePID)
		}
		// The server is the supervisor's, with the account's homes, and
		// the only one of the account: no client started its own.
		servers := v2Servers(w.bin, cfg.StateHome)
		if len(servers) != 1 || servers[0] != st.OpencodePID {
			t.Errorf("%s: V2 servers %v, want only the supervisor's %d", cfg.Account, servers, st.OpencodePID)
		}
		if !procfs.EnvHas(st.OpencodePID, "XDG_DATA_HOME="+cfg.DataHome, "XDG_STATE_HOME="+cfg.StateHome) {
			t.Errorf("%s: its server does not run with the account's data and state homes", cfg.Account)
		}
		// Its password is the account's: another is refused.
		if code, _ := getV2(t, cfg, "/api/health", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s: /api/health with a wrong password: %d, want 401", cfg.Account, code)
		}
		if code, _ := getV2(t, cfg, "/api/health", cfg.Password); code != http.StatusOK {
			t.Errorf("%s: /api/health with its password: %d, want 200", cfg.Account, code)
		}
	}
	if _, err := os.Stat(filepath.Join(w.home, ".local", "state", "opencode", "server.json")); !os.IsNotExist(err) {
		t.Errorf("a registration in the user's shared state home: %v", err)
	}

	t.Run("kill -9 is healed", func(t *testing.T) {
		before, _ := ReadStatus(a.StateDir)
		if err := syscall.Kill(before.OpencodePID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var after Status
		testsys.Eventually(t, wait, "a new ready V2 server", func() bool {
			after, _ = ReadStatus(a.StateDir)
			return after.Phase == PhaseReady && after.OpencodePID != 0 && after.OpencodePID != before.OpencodePID
		})
		waitReady(t, a, wait)
		reg, ok := opencode.Version{Major: 2, Preview: true}.Registered(a.StateHome)
		if !ok || reg.PID != after.OpencodePID {
			t.Errorf("after the restart, registration %+v, %v; want pid %d", reg, ok, after.OpencodePID)
		}
		if got := w.client(t, a, "service", "status"); !strings.Contains(got, "running "+opencode.URL(a.Port)) {
			t.Errorf("after the restart, service status says %q", got)
		}
	})
}

// getV2 fetches path from a V2 account's server with password.
func getV2(t testing.TB, cfg Config, path, password string) (int, string) {
	t.Helper()
	cl, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	cl.Password = password
	ctx, cancel := context.WithTimeout(context.Background(), testsys.OpencodeWait())
	defer cancel()
	resp, err := cl.Do(ctx, http.MethodGet, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, ""
}

// TestRealV2KeepsTheV1Database: with the real binaries, V1 writes an
// account's database; before the 2.0 preview first serves the account,
// the database is copied aside and the status says so; V1 is then refused
// on it, in one line that says how to put the backup back; put back, V1
// starts from it.
func TestRealV2KeepsTheV1Database(t *testing.T) {
	w := newV2World(t)
	v1bin := testsys.NeedOpencode(t)
	v1cfg := func(cfg Config) Config {
		cfg.Opencode = v1bin
		cfg.Detect = func() (opencode.Version, error) { return opencode.Detect(v1bin, w.cache, w.base()) }
		cfg.Env = BuildEnv(w.base(), cfg, offlineEnv)
		return cfg
	}
	v2 := w.account(t, "mig")
	v1 := v1cfg(v2)
	db := filepath.Join(v2.DataHome, "opencode", "opencode.db")

	serveOnce := func(cfg Config) Status {
		t.Helper()
		s := startServe(t, cfg)
		waitReady(t, cfg, testsys.OpencodeWait())
		// The server answers a moment before its supervisor, whose own
		// probe marks it ready, says so: wait for that, or time out and
		// return the status as it is.
		var st Status
		testsys.Poll(testsys.OpencodeWait(), func() bool {
			st, _ = ReadStatus(cfg.StateDir)
			return st.Phase == PhaseReady
		})
		s.cancel()
		s.wait(t, testsys.OpencodeWait())
		return st
	}
	serveOnce(v1)
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("V1 wrote no database: %v", err)
	}
	// V2 serves the account, and writes its database (a session).
	s2 := startServe(t, v2)
	waitReady(t, v2, testsys.OpencodeWait())
	if got := w.client(t, v2, "api", "POST", "/api/session", "--data", "{}"); !strings.Contains(got, `"id"`) {
		t.Fatalf("creating a session on V2: %s", got)
	}
	st, _ := ReadStatus(v2.StateDir)
	s2.cancel()
	s2.wait(t, testsys.OpencodeWait())
	backups, _ := filepath.Glob(db + ".v1-*[0-9]") // not its -wal and -shm
	if len(backups) != 1 || !strings.HasSuffix(backups[0], time.Now().Format("20060102")) {
		t.Fatalf("backups after V2 served: %v", backups)
	}
	if !strings.Contains(st.Notice, backups[0]) {
		t.Errorf("the status does not name the backup: %q", st.Notice)
	}

	s := startServe(t, v1)
	err := s.wait(t, testsys.OpencodeWait())
	st, _ = ReadStatus(v1.StateDir)
	if err == nil || st.Phase != PhaseFailing || !strings.Contains(st.LastError, "OpenCode 1.x would fail on it") || !strings.Contains(st.LastError, backups[0]) {
		t.Fatalf("V1 after V2: %v, status %+v; want failing, naming the backup", err, st)
	}
	restore := st.LastError[strings.LastIndex(st.LastError, ": ")+2:]
	if out, err := exec.Command("sh", "-c", restore).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", restore, err, out)
	}
	st = serveOnce(v1)
	if st.Phase != PhaseReady {
		t.Errorf("V1 on its restored database: %+v", st)
	}
}
