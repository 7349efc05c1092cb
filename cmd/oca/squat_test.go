package main

import (
	"bytes"
	"encoding/json"
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
	"github.com/oca-sh/oca/internal/testsys/squatter"
)

// ocaEnv runs the oca binary in a home of its own.
type ocaEnv struct {
	t    *testing.T
	bin  string
	home string
	env  []string
}

func newOcaEnv(t *testing.T) *ocaEnv {
	home := t.TempDir()
	e := &ocaEnv{t: t, bin: shelltest.Oca(t), home: home}
	e.env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "USER=tester", "OCA_QUIET=1",
		// Ports of this test's own, never another test's.
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t))}
	t.Cleanup(func() {
		// A supervisor a failed test left behind stops its OpenCode.
		for _, pid := range e.supervisors("") {
			syscall.Kill(pid, syscall.SIGTERM)
		}
		testsys.Eventually(t, 15*time.Second, "the test's supervisors stopped", func() bool { return len(e.supervisors("")) == 0 })
	})
	return e
}

// run runs oca with args in dir ("" for the home) and returns its output.
func (e *ocaEnv) run(dir string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.env
	cmd.Dir = e.home
	if dir != "" {
		cmd.Dir = dir
	}
	var o, s bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &s
	err = cmd.Run()
	return o.String(), s.String(), err
}

// must runs oca and fails the test when it fails.
func (e *ocaEnv) must(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run("", args...)
	if err != nil {
		e.t.Fatalf("oca %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// addAccount adds an account served by the fake OpenCode and returns its
// port.
func (e *ocaEnv) addAccount(name string) int {
	e.t.Helper()
	e.must("account", "add", name)
	accounts := filepath.Join(e.home, ".config", "oca", "accounts.toml")
	b, err := os.ReadFile(accounts)
	if err != nil {
		e.t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("opencode = ")) {
		b = append([]byte("opencode = "+strconv.Quote(shelltest.FakeOpencode(e.t))+"\n\n"), b...)
		if err := os.WriteFile(accounts, b, 0o600); err != nil {
			e.t.Fatal(err)
		}
	}
	var acc struct{ Port int }
	if err := json.Unmarshal([]byte(e.must("account", "show", name, "--json")), &acc); err != nil || acc.Port == 0 {
		e.t.Fatalf("account show: %v", err)
	}
	return acc.Port
}

// supervisors lists the live `oca serve NAME` processes of this oca binary
// in this home (of any account with name "").
func (e *ocaEnv) supervisors(name string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && (bytes.Equal(b, []byte(e.bin+"\x00serve\x00"+name+"\x00")) || name == "" && bytes.HasPrefix(b, []byte(e.bin+"\x00serve\x00"))) {
			if env, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "environ")); err != nil || !bytes.Contains(env, []byte("HOME="+e.home+"\x00")) {
				continue
			}
			if st, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat")); err == nil && !bytes.Contains(st[bytes.LastIndexByte(st, ')'):], []byte(") Z")) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// servers lists the live OpenCode servers on port whose environment lies
// under home (this test's): other tests' servers may take the same port
// numbers at other moments.
func servers(port int, home string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte("\x00--port\x00"+strconv.Itoa(port)+"\x00")) {
			if env, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "environ")); err != nil || !bytes.Contains(env, []byte("XDG_DATA_HOME="+home+"/")) {
				continue
			}
			if st, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat")); err == nil && !bytes.Contains(st[bytes.LastIndexByte(st, ')'):], []byte(") Z")) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestSquatterOnAccountPort: another local user listens on an account's
// port and answers every request as a healthy OpenCode would. Entering a
// project of the account says so in one line; `oca server wait` and `oca
// attach` fail at once naming the holder's pid, command and user; `oca
// status` and `oca doctor` name it; `oca account remove` is not held up by
// it. The squatter is never sent the password.
func TestSquatterOnAccountPort(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	e := newOcaEnv(t)
	port := e.addAccount("work")
	sq := squatter.Start(t, squatter.Build(t), u, port)
	names := func(what, s string) {
		t.Helper()
		for _, want := range []string{"port " + strconv.Itoa(port), "pid " + strconv.Itoa(sq.Pid()), "squatter serve", "user " + u.Name} {
			if !strings.Contains(s, want) {
				t.Errorf("%s does not say %q:\n%s", what, want, s)
			}
		}
	}

	// Entering a project of the account starts its supervisor, and says
	// in one line that the port is another user's.
	proj := filepath.Join(e.home, "proj")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, ".opencode-account.toml"), []byte("account = \"work\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := e.run(proj, "allow"); err != nil {
		t.Fatalf("allow: %v %s", err, errOut)
	}
	_, errOut, err := e.run(proj, "export", "json", "--pid", strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatalf("export: %v %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "oca: account work has no server: ") {
		t.Errorf("entering says %q, want one line that the port is held", errOut)
	}
	names("entering", errOut)

	// server wait and attach: at once, not after the timeout.
	for _, args := range [][]string{{"server", "wait", "work", "--timeout", "60s"}, {"attach", "work", "--timeout", "60s"}} {
		begin := time.Now()
		stdout, errOut, err := e.run(proj, args...)
		if err == nil {
			t.Errorf("oca %s succeeded: %s", strings.Join(args, " "), stdout)
		}
		if d := time.Since(begin); d > 10*time.Second {
			t.Errorf("oca %s took %s to fail", strings.Join(args, " "), d)
		} else {
			t.Logf("oca %s failed after %s", strings.Join(args, " "), d.Round(time.Millisecond))
		}
		names("oca "+strings.Join(args, " "), errOut)
		if strings.Contains(stdout, "is ready") || strings.Contains(stdout, "fake opencode attach") {
			t.Errorf("oca %s went on: %s", strings.Join(args, " "), stdout)
		}
	}

	stdout, _, _ := e.run("", "status", "work")
	names("oca status", stdout)
	stdout, _, _ = e.run("", "doctor")
	names("oca doctor", stdout)

	begin := time.Now()
	if stdout, errOut, err := e.run("", "account", "remove", "work"); err != nil {
		t.Errorf("account remove with a squatter on the port: %v\n%s%s", err, stdout, errOut)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("account remove took %s", d)
	} else {
		t.Logf("account remove took %s", d.Round(time.Millisecond))
	}
	testsys.Eventually(t, 10*time.Second, "no supervisor left", func() bool { return len(e.supervisors("work")) == 0 })

	sq.Check(t, true)
}

// TestRemoveRacesStart: `oca account remove` racing the start of the same
// account's supervisor (`oca server start`, which detaches `oca serve`, and
// `oca serve` itself), again and again at varied delays (0-19 ms, each
// once, the two ways of starting alternating), leaves no
// supervisor and no OpenCode behind: remove holds the supervisor's lock
// while it removes, and a supervisor that gets the lock after finds the
// account gone.
func TestRemoveRacesStart(t *testing.T) {
	t.Parallel()
	e := newOcaEnv(t)
	var ports []int
	for round := 0; round < 20; round++ {
		port := e.addAccount("race")
		ports = append(ports, port)
		var wg sync.WaitGroup
		var serve *exec.Cmd
		if round%2 == 0 {
			wg.Go(func() { e.run("", "server", "start", "race") })
		} else {
			serve = exec.Command(e.bin, "serve", "race")
			serve.Env, serve.Dir = e.env, e.home
			if err := serve.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { serve.Wait() })
		}
		wg.Go(func() {
			time.Sleep(time.Duration(round%20) * time.Millisecond)
			if stdout, errOut, err := e.run("", "account", "remove", "race"); err != nil {
				t.Errorf("round %d: remove: %v\n%s%s", round, err, stdout, errOut)
			}
		})
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("round %d: a supervisor runs on after its account was removed (%v)", round, e.supervisors("race"))
			for _, pid := range e.supervisors("race") {
				syscall.Kill(pid, syscall.SIGTERM)
			}
			<-done
			return
		}
		testsys.Eventually(t, 15*time.Second, "no supervisor of race left", func() bool { return len(e.supervisors("race")) == 0 })
	}
	for _, port := range ports {
		if pids := servers(port, e.home); len(pids) != 0 {
			t.Errorf("an OpenCode runs on port %d of a removed account: %v", port, pids)
		}
	}
}
