package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// End to end with the real OpenCode: entering a project starts its
// account's server, once however many shells enter at once, and the server
// stops when the last shell has left for idle_timeout; `opencode` there is
// a client of it.

// serverWorld is a world whose account "srv" has a port of its own and
// whose environment lets the hook start servers.
func serverWorld(t *testing.T, idle string) (*world, int) {
	t.Helper()
	testsys.NeedOpencode(t)
	w := shelltest.NewWorld(t)
	// The real OpenCode: NewWorld's PATH has the fake first.
	var env []string
	for _, kv := range w.Env {
		switch {
		case strings.HasPrefix(kv, "OCA_AUTOSTART="):
		case strings.HasPrefix(kv, "PATH="):
			env = append(env, "PATH="+filepath.Dir(w.Bin)+":/usr/local/bin:/usr/bin:/bin")
		default:
			env = append(env, kv)
		}
	}
	w.Env = env
	port := testsys.FreePort(t)
	w.Oca("", "account", "add", "srv", "--port", strconv.Itoa(port), "--idle-timeout", idle)
	w.Mkdir("srvproj/sub")
	w.Oca("srvproj", "init", "srv")
	t.Cleanup(func() {
		cmd := exec.Command(w.Bin, "server", "stop", "srv")
		cmd.Env = w.Env
		cmd.Run()
	})
	return w, port
}

func TestTwentyShellsStartOneServer(t *testing.T) {
	w, port := serverWorld(t, "1h")
	// Twenty shells (stood in for by sleeping processes, whose pids make
	// the leases) run the hook's `oca export` in the project at once.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		shell := exec.Command("sleep", "120")
		shell.Dir = w.Path("srvproj/sub") // a lease lasts while its shell is in the project
		if err := shell.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shell.Process.Kill(); shell.Wait() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(w.Bin, "export", "bash", "--pid", strconv.Itoa(shell.Process.Pid))
			cmd.Dir = w.Path("srvproj/sub")
			cmd.Env = append(append([]string{}, w.Env...), "PWD="+cmd.Dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || !strings.Contains(string(out), "export OPENCODE_PORT="+strconv.Itoa(port)) {
				errs <- &exportError{err, stderr.String()}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	out := w.Oca("", "server", "wait", "srv", "--timeout", testsys.OpencodeWait().String())
	if !strings.Contains(out, "is ready") {
		t.Fatalf("server wait: %q", out)
	}
	if n := len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))); n != 1 {
		t.Errorf("%d opencode servers on port %d, want 1", n, port)
	}
	testsys.Eventually(t, 10*time.Second, "one supervisor", func() bool { return len(w.Supervisors("srv")) == 1 })
	ents, _ := os.ReadDir(w.Path(".local/state/oca/accounts/srv/leases"))
	leases := 0
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") { // anchors and temporaries are dot files
			leases++
		}
	}
	if leases != 20 {
		t.Errorf("%d leases, want 20", leases)
	}
	status := w.Oca("", "status", "srv", "--json")
	if !strings.Contains(status, `"phase": "ready"`) || strings.Contains(status, w.Password("srv")) {
		t.Errorf("status: %q", status)
	}

	w.Oca("", "server", "stop", "srv")
	if n := len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))) + len(w.Supervisors("srv")); n != 0 {
		t.Errorf("%d processes of the account left after stop", n)
	}
	if shelltest.Listening(port) {
		t.Errorf("port %d still taken after stop", port)
	}
}

type exportError struct {
	err    error
	stderr string
}

func (e *exportError) Error() string { return "oca export: " + errString(e.err) + ": " + e.stderr }

func errString(err error) string {
	if err == nil {
		return "wrong output"
	}
	return err.Error()
}

// TestServerStopsWhenTheLastShellLeaves: a real shell enters (the hook
// starts the server and takes a lease), leaves (by itself, with no
// process), and idle_timeout later nothing of the account runs.
func TestServerStopsWhenTheLastShellLeaves(t *testing.T) {
	w, port := serverWorld(t, "2s")
	shelltest.Require(t, "bash")
	s := w.Start("bash", "", shelltest.Options{})
	s.Run("cd srvproj")
	if out := w.Oca("", "server", "wait", "srv", "--timeout", testsys.OpencodeWait().String()); !strings.Contains(out, "is ready") {
		t.Fatalf("server wait: %q", out)
	}
	if n := len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))); n != 1 {
		t.Fatalf("%d servers", n)
	}
	// Inside, the server stays up past idle_timeout.
	time.Sleep(3 * time.Second)
	if !shelltest.Listening(port) {
		t.Fatal("the server stopped while a shell was inside the project")
	}
	s.Run("cd ..")
	testsys.Eventually(t, testsys.OpencodeWait(), "no process of the account after the shell left", func() bool {
		return len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port)))+len(w.Supervisors("srv")) == 0 && !shelltest.Listening(port)
	})
	if st := w.Oca("", "status", "srv"); !strings.Contains(st, "stopped") {
		t.Errorf("status after idle: %s", st)
	}
}

// TestShimRealOpencodeSmoke: with the real OpenCode, `opencode` in a bound
// project is `opencode attach` on oca's proxy in front of the account's
// server, which `oca status` counts as one client, and no command line
// holds the password. (The end-to-end tests with a provider are elsewhere.)
func TestShimRealOpencodeSmoke(t *testing.T) {
	w, port := serverWorld(t, "1h")
	s := w.Start("bash", "srvproj", shelltest.Options{Env: append(append([]string{}, w.Env...), "TERM=xterm-256color")})
	tuis := func() []int { return shelltest.Procs("attach", "--dir", w.Path("srvproj")) }
	t.Cleanup(func() {
		for _, pid := range tuis() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	// The TUI takes the terminal: type it without waiting for a prompt.
	s.Type("opencode\n")
	testsys.Eventually(t, testsys.OpencodeWait(), "an attached OpenCode counted by oca status", func() bool {
		st := w.Status("srv")
		return st.Phase == "ready" && st.Clients == 1 && len(tuis()) == 1
	})
	if b, _ := os.ReadFile("/proc/" + strconv.Itoa(tuis()[0]) + "/cmdline"); strings.Contains(string(b), "127.0.0.1:"+strconv.Itoa(port)+"\x00") {
		t.Errorf("the TUI attaches to the server's port itself: %q", b)
	}
	pw := w.Password("srv")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(b), pw) {
			t.Errorf("pid %s has the password on its command line: %q", e.Name(), b)
		}
	}
	if n := len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))); n != 1 {
		t.Errorf("%d OpenCode servers on the account's port, want 1", n)
	}
}
