package shells_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/shells/shelltest"
)

// The rows of docs/faults.md that need a real shell, or the real binary
// run as the hook runs it: each fault leaves the shell working, loses no
// data, and says what is wrong in one line that names the cause.

// killAtEnd kills, when the test ends, whatever of the account still runs:
// a test that fails half-way must not leave a server behind. The pids are
// the account's own supervisor and fake servers, found by their command
// lines.
func killAtEnd(t *testing.T, name string, port int) {
	t.Cleanup(func() {
		for _, pid := range append(procs("oca", "serve", name), procs("opencode", "serve", "--port", strconv.Itoa(port))...) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// accountPort reads an account's port back from oca.
func (w *world) accountPort(name string) int {
	w.t.Helper()
	var acc struct {
		Port int `json:"port"`
	}
	if err := json.Unmarshal([]byte(w.oca("", "account", "show", name, "--json")), &acc); err != nil {
		w.t.Fatal(err)
	}
	return acc.Port
}

// TestAccountRemovedWhileInside: a shell is inside a project of an account
// whose server runs, and the account is removed. The server stops (nothing
// could stop it once the account is gone), the shell's next prompt says the
// account is gone and how to make it, the variables are put back, and the
// data home (credentials) stays.
func TestAccountRemovedWhileInside(t *testing.T) {
	forEachShell(t, func(t *testing.T, shell string) {
		w := bareWorld(t)
		name := "gone-" + shell
		port := freePort(t)
		killAtEnd(t, name, port)
		w.oca("", "account", "add", name, "--port", strconv.Itoa(port))
		w.mkdir("proj")
		w.oca("proj", "init", name)
		auth := filepath.Join(w.path(".local/share/oca/accounts/"+name), "opencode", "auth.json")
		if err := os.MkdirAll(filepath.Dir(auth), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(auth, []byte(`{"anthropic":{"type":"api","key":"sk-ant-fake"}}`), 0o600); err != nil {
			t.Fatal(err)
		}

		s := w.start(shell, "", shelltest.Options{})
		base := s.Env()
		s.Run("cd proj")
		expectEnv(t, "inside", s.Env(), base, w.vars(name))
		if out := w.oca("", "server", "wait", name, "--timeout", "60s"); !strings.Contains(out, "is ready") {
			t.Fatalf("server wait: %q", out)
		}

		out := s.Run("oca account remove " + name)
		if !strings.Contains(out, "removed account "+name) {
			t.Errorf("remove said %q", out)
		}
		if want := "oca account add " + name; count(out, want) != 1 {
			t.Errorf("the next prompt should say once how to make the account again (%q), got %q", want, out)
		}
		expectEnv(t, "account removed", s.Env(), base, nil)
		eventually(t, 20*time.Second, "no server of the removed account", func() bool {
			return len(procs("oca", "serve", name))+len(procs("opencode", "serve", "--port", strconv.Itoa(port))) == 0 && !listening(port)
		})
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the message repeats: %q", out)
		}
		if b, err := os.ReadFile(auth); err != nil || !strings.Contains(string(b), "sk-ant-fake") {
			t.Errorf("the credentials were lost: %q %v", b, err)
		}
		// Made again, the shell enters it at the next prompt.
		s.Run("oca account add " + name + " --port " + strconv.Itoa(port) + " >/dev/null")
		expectEnv(t, "made again", s.Env(), base, w.vars(name))
		w.oca("", "server", "stop", name)
	})
}
