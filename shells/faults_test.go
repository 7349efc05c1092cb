package shells_test

import (
	"bytes"
	"fmt"
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

// The rows of docs/faults.md that need a real shell, or the real binary
// run as the hook runs it: each fault leaves the shell working, loses no
// data, and says what is wrong in one line that names the cause.

// killAtEnd kills, when the test ends, whatever of the account still runs:
// a test that fails half-way must not leave a server behind. The pids are
// the world's own supervisor of the account (another test's, or another
// suite's, of the same name is not) and the servers on its port.
func killAtEnd(t *testing.T, w *world, name string, port int) {
	t.Cleanup(func() {
		for _, pid := range append(w.Supervisors(name), shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))...) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// ocaLines counts the lines of out that are oca's messages.
func ocaLines(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(strings.ReplaceAll(l, "⏎", "")), "oca: ") {
			n++
		}
	}
	return n
}

// TestAccountRemovedWhileInside: a shell is inside a project of an account
// whose server runs, and the account is removed. The server stops (nothing
// could stop it once the account is gone), the shell's next prompt says the
// account is gone and how to make it, the variables are put back, and the
// data home (credentials) stays.
func TestAccountRemovedWhileInside(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := bareWorld(t)
		name := "gone-" + shell
		port := testsys.FreePort(t)
		killAtEnd(t, w, name, port)
		w.Oca("", "account", "add", name, "--port", strconv.Itoa(port))
		w.Mkdir("proj")
		w.Oca("proj", "init", name)
		auth := filepath.Join(w.Path(".local/share/oca/accounts/"+name), "opencode", "auth.json")
		if err := os.MkdirAll(filepath.Dir(auth), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(auth, []byte(`{"anthropic":{"type":"api","key":"sk-ant-fake"}}`), 0o600); err != nil {
			t.Fatal(err)
		}

		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		s.Run("cd proj")
		expectEnv(t, "inside", s.Env(), base, w.Vars(name))
		if out := w.Oca("", "server", "wait", name, "--timeout", "60s"); !strings.Contains(out, "is ready") {
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
		testsys.Eventually(t, 20*time.Second, "no server of the removed account", func() bool {
			return len(w.Supervisors(name))+len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))) == 0 && !shelltest.Listening(port)
		})
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the message repeats: %q", out)
		}
		if b, err := os.ReadFile(auth); err != nil || !strings.Contains(string(b), "sk-ant-fake") {
			t.Errorf("the credentials were lost: %q %v", b, err)
		}
		// Made again, the shell enters it at the next prompt.
		s.Run("oca account add " + name + " --port " + strconv.Itoa(port) + " >/dev/null")
		expectEnv(t, "made again", s.Env(), base, w.Vars(name))
		w.Oca("", "server", "stop", name)
	})
}

// TestFiftyShellsTenAccounts: ten `oca account add` at once, then fifty
// shells (five in a project of each account) run the hook's `oca export`
// at once. Exactly ten supervisors and ten servers run, each on its
// account's port, no port twice; stopping each leaves nothing.
func TestFiftyShellsTenAccounts(t *testing.T) {
	t.Parallel()
	w := bareWorld(t)
	const accounts, perAccount = 10, 5
	var names []string
	for i := range accounts {
		names = append(names, fmt.Sprintf("fifty-%d", i))
	}
	run := func(dir string, args ...string) error {
		cmd := exec.Command(w.Bin, args...)
		cmd.Dir = w.Path(dir)
		cmd.Env = append(append([]string{}, w.Env...), "PWD="+cmd.Dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if _, err := cmd.Output(); err != nil {
			return fmt.Errorf("oca %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, accounts*perAccount)
	for _, n := range names {
		wg.Go(func() {
			if err := run("", "account", "add", n); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	for len(errs) > 0 {
		t.Error(<-errs)
	}
	if t.Failed() {
		t.FailNow()
	}
	ports := map[string]int{}
	owner := map[int]string{}
	for _, n := range names {
		p := w.Port(n)
		if other, dup := owner[p]; dup {
			t.Errorf("port %d given to %s and %s", p, other, n)
		}
		ports[n], owner[p] = p, n
		killAtEnd(t, w, n, p)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		for _, n := range names {
			run("", "server", "stop", n)
		}
	})
	for _, n := range names {
		w.Mkdir("p-" + n + "/src")
		w.Oca("p-"+n, "init", n)
	}

	// Fifty shells, stood in for by sleeping processes in the projects
	// (their pids make the leases), run the hook's oca export at once.
	for _, n := range names {
		for k := range perAccount {
			dir := w.Path("p-" + n + "/src")
			shell := exec.Command("sleep", "300")
			shell.Dir = dir
			if err := shell.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { shell.Process.Kill(); shell.Wait() })
			wg.Go(func() {
				cmd := exec.Command(w.Bin, "export", []string{"bash", "zsh", "fish", "json", "bash"}[k], "--pid", strconv.Itoa(shell.Process.Pid))
				cmd.Dir = dir
				cmd.Env = append(append([]string{}, w.Env...), "PWD="+dir)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil || !strings.Contains(string(out), strconv.Itoa(ports[n])) || strings.Contains(stderr.String(), "oca: ") && !strings.Contains(stderr.String(), "oca: account "+n) {
					errs <- fmt.Errorf("export in %s: %v\nstdout: %s\nstderr: %s", dir, err, out, stderr.String())
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, n := range names {
		if err := run("", "server", "wait", n, "--timeout", "90s"); err != nil {
			t.Fatal(err)
		}
	}
	// Supervisors that lost the race exit at once; let them.
	testsys.Eventually(t, 30*time.Second, "one supervisor and one server an account", func() bool {
		for _, n := range names {
			if len(w.Supervisors(n)) != 1 || len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(ports[n]))) != 1 {
				return false
			}
		}
		return true
	})
	servers := 0
	for _, n := range names {
		servers += len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(ports[n])))
		if !shelltest.Listening(ports[n]) {
			t.Errorf("nothing listens on %s's port %d", n, ports[n])
		}
		ents, _ := os.ReadDir(w.Path(".local/state/oca/accounts/" + n + "/leases"))
		leases := 0
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") {
				leases++
			}
		}
		if leases != perAccount {
			t.Errorf("%s has %d leases, want %d", n, leases, perAccount)
		}
	}
	if servers != accounts {
		t.Errorf("%d servers, want %d", servers, accounts)
	}
	for _, n := range names {
		if err := run("", "server", "stop", n); err != nil {
			t.Error(err)
		}
	}
	for _, n := range names {
		if k := len(w.Supervisors(n)) + len(shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(ports[n]))); k != 0 || shelltest.Listening(ports[n]) {
			t.Errorf("%s: %d processes left after stop (port taken: %v)", n, k, shelltest.Listening(ports[n]))
		}
	}
}

// TestBrokenAccountsFileInside: the accounts file breaks while the shell
// is inside a project. One message names the file, line and key; the shell
// keeps its account (no credentials swapped mid-session), also on moving
// to another project; leaving needs no oca; mended, all is as before.
func TestBrokenAccountsFileInside(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		work := w.Vars("work")
		accounts := w.Path(".config/oca/accounts.toml")
		good, err := os.ReadFile(accounts)
		if err != nil {
			t.Fatal(err)
		}
		s.Run("cd work")
		expectEnv(t, "inside", s.Env(), base, work)

		broken := strings.Replace(string(good), "port = ", "port = \"oops\" #", 1)
		if err := os.WriteFile(accounts, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
		out := s.Run("true")
		if count(out, accounts+":") != 1 || !strings.Contains(out, "port: wrong type") {
			t.Errorf("broken accounts file: want one message naming %s, its line and key, got %q", accounts, out)
		}
		expectEnv(t, "broken, inside", s.Env(), base, work)
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the message repeats: %q", out)
		}
		s.Run("cd ../play")
		expectEnv(t, "broken, moved to another project", s.Env(), base, work)
		if out := s.Run("oca account list"); !strings.Contains(out, accounts+":") {
			t.Errorf("oca account list with a broken file: %q", out)
		}
		s.Run("cd ../plain")
		expectEnv(t, "broken, left", s.Env(), base, nil)
		if b, _ := os.ReadFile(accounts); string(b) != broken {
			t.Errorf("the broken file was rewritten:\n%s", b)
		}

		if err := os.WriteFile(accounts, good, 0o600); err != nil {
			t.Fatal(err)
		}
		s.Run("cd ../play")
		expectEnv(t, "mended", s.Env(), base, w.Vars("play"))
	})
}

// TestStateDirUnwritable: oca's state directory refuses writes (here its
// parent is a regular file, so every write fails with ENOTDIR, as root
// too). Entering a project says so once, naming the path, and changes
// nothing; inside a project, a re-run that fails keeps the account;
// nothing is lost, and when the directory is back all works as before.
func TestStateDirUnwritable(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		state := w.Path(".local/state")
		break_ := func() {
			t.Helper()
			if err := os.Rename(state, state+".away"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(state, []byte("a file where a directory should be\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		mend := func() {
			t.Helper()
			if err := os.Remove(state); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(state+".away", state); err != nil {
				t.Fatal(err)
			}
		}
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		work := w.Vars("work")

		break_()
		out := s.Run("cd work")
		if ocaLines(out) != 1 || !strings.Contains(out, state) || !strings.Contains(out, "not a directory") {
			t.Errorf("entering with an unwritable state dir: want one message naming %s, got %q", state, out)
		}
		expectEnv(t, "unwritable, entered", s.Env(), base, nil)
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the message repeats: %q", out)
		}
		if out := s.Run("oca allow"); !strings.Contains(out, "not a directory") {
			t.Errorf("oca allow with an unwritable state dir: %q", out)
		}
		if out := s.Run("echo still here"); !strings.Contains(out, "still here") {
			t.Errorf("the shell is not usable: %q", out)
		}
		s.Run("cd ..")
		mend()
		s.Run("cd work")
		expectEnv(t, "writable again", s.Env(), base, work)

		// Inside, the directory goes; an edit makes the hook run oca, which
		// fails: the shell keeps its account.
		break_()
		out = s.Run("echo '# edited' >> .opencode-account.toml")
		if ocaLines(out) != 1 || !strings.Contains(out, "not a directory") {
			t.Errorf("re-run inside with an unwritable state dir: %q", out)
		}
		expectEnv(t, "unwritable, inside", s.Env(), base, work)
		s.Run("cd ../plain")
		expectEnv(t, "unwritable, left", s.Env(), base, nil)
		mend()
		if out := s.Run("cd ../work"); !strings.Contains(out, "oca allow") {
			t.Errorf("the edited file should need allowing again: %q", out)
		}
		s.Run("oca allow >/dev/null")
		expectEnv(t, "allowed after the edit", s.Env(), base, work)
	})
}

// TestDataHomeDeleted: an account's data home is deleted (rm -rf) while a
// shell is inside a project of it. Entering again makes it anew, 0700,
// with its links, and says nothing but the account's name.
func TestDataHomeDeleted(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		work := w.Vars("work")
		s.Run("cd work")
		expectEnv(t, "inside", s.Env(), base, work)
		dh := work["XDG_DATA_HOME"]
		if _, err := os.Lstat(filepath.Join(dh, "direnv")); err != nil {
			t.Fatalf("no link to direnv in the data home: %v", err)
		}
		if err := os.RemoveAll(dh); err != nil {
			t.Fatal(err)
		}
		if out := s.Run("echo still here"); !strings.Contains(out, "still here") || strings.Contains(out, "oca:") {
			t.Errorf("after the data home went: %q", out)
		}
		s.Run("cd ..")
		out := s.Run("cd work")
		if strings.Contains(strings.ReplaceAll(out, "oca: account work", ""), "oca:") {
			t.Errorf("re-entering: %q", out)
		}
		expectEnv(t, "re-entered", s.Env(), base, work)
		fi, err := os.Stat(dh)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("data home not made again 0700: %v %v", fi, err)
		}
		if target, err := os.Readlink(filepath.Join(dh, "direnv")); err != nil || target != w.Path(".local/share/direnv") {
			t.Errorf("link to direnv not made again: %q %v", target, err)
		}
	})
}
