package supervisor

import (
	"context"
	"io"
	"net/http"
	"os"
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

// offlineEnv is the account env table the end-to-end tests run OpenCode
// with: there is no network here but 127.0.0.1, so nothing should be
// fetched. (OpenCode becomes healthy offline without these too; they only
// spare it the failed attempts.)
var offlineEnv = map[string]string{
	"OPENCODE_DISABLE_MODELS_FETCH": "1",
	"OPENCODE_DISABLE_AUTOUPDATE":   "1",
}

// realAccount is a test account served by the real OpenCode, with a fake
// API key in its auth.json.
func realAccount(t testing.TB, name, key string) (Config, []string) {
	t.Helper()
	a := newAccount(t, name)
	cfg := a.cfg
	cfg.Opencode = testsys.NeedOpencode(t)
	cfg.StopGrace = 2 * time.Second
	cfg.BackoffMin = 200 * time.Millisecond
	cfg.PollInterval = time.Second
	writeAuth(t, cfg, key)
	return cfg, serveArgs(t, cfg, offlineEnv)
}

// writeAuth writes auth.json the way OpenCode stores an API key:
// {"PROVIDER":{"type":"api","key":"..."}}.
func writeAuth(t testing.TB, cfg Config, key string) {
	t.Helper()
	body := `{"anthropic":{"type":"api","key":"` + key + `"}}`
	if err := os.WriteFile(account.AuthFile(cfg.DataHome), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func waitReady(t testing.TB, cfg Config, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testsys.BeforeDeadline(t, d))
	defer cancel()
	if err := WaitReady(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

// get fetches path from the account's server with password ("" for none).
func get(t testing.TB, cfg Config, path, password string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testsys.OpencodeWait())
	defer cancel()
	resp, err := opencode.Client{Port: cfg.Port, Password: password}.Do(ctx, http.MethodGet, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// opencodeServers lists the opencode serve processes on cfg's port.
func opencodeServers(cfg Config) []int {
	return procsWithArgs("opencode", "serve", "--port "+itoa(cfg.Port))
}

func TestRealTwoAccounts(t *testing.T) {
	t.Parallel()
	a, argsA := realAccount(t, "alpha", "sk-ant-fake-A")
	b, argsB := realAccount(t, "beta", "sk-ant-fake-B")
	stopAtEnd(t, a)
	stopAtEnd(t, b)

	// 20 shells enter A's project at once, one enters B's.
	if started := ensureMany(t, 20, a, argsA); started < 1 {
		t.Fatal("no Ensure started A's supervisor")
	}
	if started, err := Ensure(b, bins.ocaserve, argsB...); !started || err != nil {
		t.Fatalf("Ensure B = %v, %v", started, err)
	}
	waitReady(t, a, testsys.OpencodeWait())
	waitReady(t, b, testsys.OpencodeWait())
	testsys.Eventually(t, testsys.OpencodeWait(), "one supervisor of A", func() bool { return len(supervisors(a)) == 1 })
	if n := opencodeServers(a); len(n) != 1 {
		t.Fatalf("A has %d opencode servers: %v", len(n), n)
	}
	stA := waitPhase(t, a.StateDir, PhaseReady, testsys.OpencodeWait())
	t.Logf("A ready %s after its start", stA.ReadyAt.Sub(stA.OpencodeStartedAt).Round(time.Millisecond))

	t.Run("password required", func(t *testing.T) {
		for _, cfg := range []Config{a, b} {
			for _, path := range []string{"/global/health", "/config/providers", "/", "/session", "/no/such/path", "/instance/dispose"} {
				if code, _ := get(t, cfg, path, ""); code != http.StatusUnauthorized {
					t.Errorf("%s %s without password: %d", cfg.Account, path, code)
				}
				if code, _ := get(t, cfg, path, "wrong"); code != http.StatusUnauthorized {
					t.Errorf("%s %s with a wrong password: %d", cfg.Account, path, code)
				}
			}
			// One probe's answer is bounded by 200 ms, which a loaded
			// machine can miss: the server must answer within the wait.
			testsys.Eventually(t, testsys.OpencodeWait(), cfg.Account+" healthy with its password", func() bool {
				ok, _ := opencode.Health(context.Background(), cfg.Port, cfg.Password)
				return ok
			})
		}
	})

	t.Run("own keys only", func(t *testing.T) {
		for _, c := range []struct {
			cfg        Config
			own, other string
		}{{a, "sk-ant-fake-A", "sk-ant-fake-B"}, {b, "sk-ant-fake-B", "sk-ant-fake-A"}} {
			code, body := get(t, c.cfg, "/config/providers", c.cfg.Password)
			if code != http.StatusOK || !strings.Contains(body, `"`+c.own+`"`) || strings.Contains(body, c.other) {
				t.Errorf("%s /config/providers: status %d, own key %v, other key %v",
					c.cfg.Account, code, strings.Contains(body, c.own), strings.Contains(body, c.other))
			}
		}
	})

	t.Run("new key without restart", func(t *testing.T) {
		before, _ := ReadStatus(a.StateDir)
		writeAuth(t, a, "sk-ant-fake-A2")
		testsys.Eventually(t, testsys.OpencodeWait(), "A2 in A's providers", func() bool {
			_, body := get(t, a, "/config/providers", a.Password)
			return strings.Contains(body, `"sk-ant-fake-A2"`)
		})
		after, _ := ReadStatus(a.StateDir)
		if after.OpencodePID != before.OpencodePID || after.Restarts != before.Restarts {
			t.Errorf("OpenCode was restarted: %+v -> %+v", before, after)
		}
		if _, body := get(t, b, "/config/providers", b.Password); strings.Contains(body, "sk-ant-fake-A") {
			t.Errorf("A's key reached B")
		}
	})

	t.Run("kill -9 opencode", func(t *testing.T) {
		before := waitPhase(t, a.StateDir, PhaseReady, testsys.OpencodeWait())
		killedAt := time.Now()
		if err := syscall.Kill(before.OpencodePID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var after Status
		testsys.Eventually(t, testsys.OpencodeWait(), "A ready again after kill -9 of OpenCode", func() bool {
			after, _ = ReadStatus(a.StateDir)
			return after.Phase == PhaseReady && after.OpencodePID != before.OpencodePID
		})
		if after.Restarts != before.Restarts+1 || !strings.Contains(after.LastError, "signal: killed") {
			t.Errorf("after kill -9: restarts %d -> %d, last error %q", before.Restarts, after.Restarts, after.LastError)
		}
		t.Logf("healthy again %s after kill -9", after.ReadyAt.Sub(killedAt).Round(time.Millisecond))
		waitReady(t, a, testsys.OpencodeWait())
		if n := opencodeServers(a); len(n) != 1 {
			t.Errorf("A has %d opencode servers: %v", len(n), n)
		}
	})

	t.Run("kill -9 supervisor", func(t *testing.T) {
		before := waitPhase(t, a.StateDir, PhaseReady, testsys.OpencodeWait())
		if err := syscall.Kill(before.SupervisorPID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Its main thread turns zombie a little before its files, and so
		// the lock, are released.
		testsys.Eventually(t, testsys.OpencodeWait(), "supervisor gone, lock released", func() bool {
			held, _ := statedir.LockHeld(a.StateDir)
			return !procfs.Alive(before.SupervisorPID, before.SupervisorStart) && !held
		})
		if st, _ := ReadStatus(a.StateDir); !st.Stale || !st.Orphan {
			t.Errorf("status after kill -9 of the supervisor: %+v", st)
		}
		// The next shell entering the project recovers.
		if started, err := Ensure(a, bins.ocaserve, argsA...); !started || err != nil {
			t.Fatalf("Ensure after kill -9 = %v, %v", started, err)
		}
		var after Status
		testsys.Eventually(t, testsys.OpencodeWait(), "A ready under a new supervisor", func() bool {
			after, _ = ReadStatus(a.StateDir)
			return after.Phase == PhaseReady && after.SupervisorPID != before.SupervisorPID
		})
		if procfs.Alive(before.OpencodePID, before.OpencodeStart) {
			t.Errorf("the orphaned OpenCode %d still runs", before.OpencodePID)
		}
		if n := opencodeServers(a); len(n) != 1 || n[0] != after.OpencodePID {
			t.Errorf("A's opencode servers %v, status says %d", n, after.OpencodePID)
		}
		if h, _ := opencode.PortHolder(a.Port); h.PID != after.OpencodePID {
			t.Errorf("port %d held by %v, not the new OpenCode %d", a.Port, h, after.OpencodePID)
		}
		waitReady(t, a, testsys.OpencodeWait())
		if _, body := get(t, a, "/config/providers", a.Password); !strings.Contains(body, "sk-ant-fake-A2") {
			t.Errorf("A's key lost after recovery")
		}
	})

	t.Run("stop", func(t *testing.T) {
		for _, cfg := range []Config{a, b} {
			if err := Stop(cfg.StateDir, testsys.OpencodeWait()); err != nil {
				t.Fatal(err)
			}
			noProcessLeft(t, cfg)
			// Stop returns once the lock is free; the process ends a
			// moment after.
			if !testsys.Poll(10*time.Second, func() bool { return len(supervisors(cfg)) == 0 }) {
				t.Errorf("%s supervisors left: %v", cfg.Account, supervisors(cfg))
			}
			if n := opencodeServers(cfg); len(n) != 0 {
				t.Errorf("%s opencode left: %v", cfg.Account, n)
			}
		}
	})

	// Nothing secret in oca's own files.
	for _, cfg := range []Config{a, b} {
		for _, name := range []string{logName, statusName} {
			text := readFile(t, filepath.Join(cfg.StateDir, name))
			if strings.Contains(text, cfg.Password) || strings.Contains(text, "sk-ant-fake") {
				t.Errorf("secret in %s of %s", name, cfg.Account)
			}
		}
	}
}

func TestRealIdleShutdown(t *testing.T) {
	t.Parallel()
	cfg, _ := realAccount(t, "idle", "sk-ant-fake-C")
	cfg.IdleTimeout = 2 * time.Second
	args := serveArgs(t, cfg, offlineEnv)
	stopAtEnd(t, cfg)
	// A shell enters, then leaves.
	if err := statedir.AddLease(cfg.StateDir, os.Getpid(), ""); err != nil {
		t.Fatal(err)
	}
	if started, err := Ensure(cfg, bins.ocaserve, args...); !started || err != nil {
		t.Fatalf("Ensure = %v, %v", started, err)
	}
	waitReady(t, cfg, testsys.OpencodeWait())
	time.Sleep(2 * cfg.IdleTimeout)
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseReady {
		t.Fatalf("stopped while a shell holds a lease: %+v", st)
	}
	if err := statedir.DropLease(cfg.StateDir, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "supervisor gone after idle timeout", func() bool {
		held, _ := statedir.LockHeld(cfg.StateDir)
		return !held
	})
	noProcessLeft(t, cfg)
	// The lock goes when Serve returns; the process ends a moment after.
	if !testsys.Poll(10*time.Second, func() bool { return len(supervisors(cfg)) == 0 }) {
		t.Errorf("supervisors left: %v", supervisors(cfg))
	}
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseStopped || st.Stale {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(readFile(t, filepath.Join(cfg.StateDir, logName)), "no shell and no client for 2s") {
		t.Errorf("idle stop not logged")
	}
}
