package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// cliHome is an isolated user for runs of the real binary.
type cliHome struct {
	t    *testing.T
	bin  string
	home string
	env  []string
}

func newCLIHome(t *testing.T) *cliHome {
	t.Helper()
	home, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &cliHome{t: t, bin: shelltest.Oca(t), home: home, env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"OCA_AUTOSTART=0",
		// Ports of its own: account remove counts the clients connected
		// to an account's port, another test's server's among them.
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}}
}

// oca runs the binary and fails the test if it fails.
func (h *cliHome) oca(args ...string) string {
	h.t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env, cmd.Dir = h.env, h.home
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("oca %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (h *cliHome) stateDir(account string) string {
	return filepath.Join(h.home, ".local", "state", "oca", "accounts", account)
}

// TestPurgeAsksOnATerminal: on a terminal, `account remove --purge` names
// the data home it would delete and deletes it only on a yes.
func TestPurgeAsksOnATerminal(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	for _, tc := range []struct {
		answer  string
		deleted bool
	}{{"n", false}, {"", false}, {"y", true}} {
		h.oca("account", "add", "old")
		dataHome := filepath.Join(h.home, ".local", "share", "oca", "accounts", "old")
		cmd := exec.Command(h.bin, "account", "remove", "old", "--purge")
		cmd.Env, cmd.Dir = h.env, h.home
		tty, err := pty.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		var out testsys.Buffer
		go io.Copy(&out, tty)
		testsys.Eventually(t, 30*time.Second, "no question: "+out.String(), func() bool { return strings.Contains(out.String(), "[y/N]") })
		if q := out.String(); !strings.Contains(q, "delete the data home of account old, "+dataHome) || !strings.Contains(q, "credentials") {
			t.Errorf("the question does not name what it deletes: %q", q)
		}
		// The answer, typed again if oca has not read it within a few
		// seconds: once on a loaded machine the line typed never reached
		// it (no echo either), and oca waited for go test's 10 minutes.
		// oca reads one line; a second copy is never read.
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.After(testsys.BeforeDeadline(t, testsys.Loaded(60*time.Second)))
	answer:
		for {
			tty.Write([]byte(tc.answer + "\n"))
			select {
			case err = <-exited:
				break answer
			case <-time.After(testsys.Loaded(3 * time.Second)):
				t.Logf("answer %q: typed again (oca had not read it): %q", tc.answer, out.String())
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("answer %q: oca did not finish: %q", tc.answer, out.String())
			}
		}
		tty.Close()
		_, statErr := os.Stat(dataHome)
		if gone := errors.Is(statErr, os.ErrNotExist); gone != tc.deleted {
			t.Errorf("answer %q: data home deleted %v, want %v (exit %v; %q)", tc.answer, gone, tc.deleted, err, out.String())
		}
		if (err == nil) != tc.deleted {
			t.Errorf("answer %q: exit %v", tc.answer, err)
		}
		if !tc.deleted {
			if !strings.Contains(h.oca("account", "list", "--quiet"), "old") {
				t.Errorf("answer %q: the account was removed", tc.answer)
			}
			h.oca("account", "remove", "old")
		}
	}
}

// TestServerLogs: -n N prints the last N lines, and -f prints what is
// appended after, until it is stopped.
func TestServerLogs(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	h.oca("account", "add", "work")
	if err := os.MkdirAll(h.stateDir("work"), 0o700); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(h.stateDir("work"), "serve.log")
	if err := os.WriteFile(log, []byte("one\ntwo\nthree\nfour\nfive\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := h.oca("server", "logs", "work", "-n", "3"); out != "three\nfour\nfive\n" {
		t.Errorf("-n 3 printed %q", out)
	}
	if out := h.oca("server", "logs", "work", "--lines", "9"); out != "one\ntwo\nthree\nfour\nfive\n" {
		t.Errorf("--lines 9 printed %q", out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, "server", "logs", "work", "-n", "2", "-f")
	cmd.Env, cmd.Dir = h.env, h.home
	var out testsys.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, 30*time.Second, "the last lines: "+out.String(), func() bool { return out.String() == "four\nfive\n" })
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("six\n")
	f.Close()
	testsys.Eventually(t, 30*time.Second, "-f did not follow: "+out.String(), func() bool { return out.String() == "four\nfive\nsix\n" })
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("logs -f on SIGINT: %v", err)
	}
}

// TestServerWaitFailing: a server whose supervisor gave up (phase failing)
// is not waited for: `oca server wait` says why at once.
func TestServerWaitFailing(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	h.oca("account", "add", "work")
	accounts := filepath.Join(h.home, ".config", "oca", "accounts.toml")
	data, err := os.ReadFile(accounts)
	if err != nil {
		t.Fatal(err)
	}
	// An OpenCode that exits at once: the supervisor gives up after its
	// crashes in a row.
	if err := os.WriteFile(accounts, append([]byte("opencode = \"/bin/false\"\n\n"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	h.oca("server", "start", "work")
	t.Cleanup(func() {
		cmd := exec.Command(h.bin, "server", "stop", "work")
		cmd.Env = h.env
		cmd.Run()
	})
	testsys.Eventually(t, 3*time.Minute, "the server did not reach phase failing", func() bool {
		st, _ := os.ReadFile(filepath.Join(h.stateDir("work"), "status.json"))
		return strings.Contains(string(st), `"failing"`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, "server", "wait", "work", "--timeout", "4m")
	cmd.Env, cmd.Dir = h.env, h.home
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(begin)
	if err == nil {
		t.Fatalf("wait on a failing server succeeded: %s", out)
	}
	if !strings.Contains(string(out), "the server of work is failing") || !strings.Contains(string(out), "oca server restart work") {
		t.Errorf("wait does not say why: %s", out)
	}
	if took > 20*time.Second {
		t.Errorf("wait on a failing server took %s: it waited instead of saying why", took)
	}
}

// TestHotPathBuildsNoTree: export and hook, as the shell's hook runs them,
// never build the command tree; anything else about them goes to it.
func TestHotPathBuildsNoTree(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	for _, tc := range []struct {
		args []string
		tree bool
	}{
		{[]string{"export", "json"}, false},
		{[]string{"export", "bash", "--pid", "123"}, false},
		{[]string{"export", "zsh", "--pid=123"}, false},
		{[]string{"hook", "fish"}, false},
		{[]string{"export", "--help"}, true},
		{[]string{"hook"}, true},
		{[]string{"export", "bash", "--bogus"}, true},
		{[]string{"version"}, true},
	} {
		var stdout, stderr bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, wd: home, self: "/bin/oca",
			env: []string{"HOME=" + home, "PATH=/usr/bin:/bin"}}
		a.run(tc.args)
		if a.tree != tc.tree {
			t.Errorf("oca %s: tree built %v, want %v (%s)", strings.Join(tc.args, " "), a.tree, tc.tree, stderr.String())
		}
	}
}

// TestTreeOfOneCommand: a run builds only the command it names; that
// command's help, and its subcommands', are those of the whole tree.
func TestTreeOfOneCommand(t *testing.T) {
	t.Parallel()
	help := func(build, path []string) string {
		var out bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out, wd: "/"}
		root := a.newRoot(build)
		root.SetArgs(append(append([]string{}, path...), "--help"))
		if err := root.Execute(); err != nil {
			t.Fatalf("oca %s --help: %v", strings.Join(path, " "), err)
		}
		return out.String()
	}
	full := (&app{}).newRoot(nil)
	if len(full.Commands()) < 18 {
		t.Fatalf("the whole tree has %d commands", len(full.Commands()))
	}
	for _, c := range full.Commands() {
		if c.Name() == "help" {
			continue
		}
		paths := [][]string{{c.Name()}}
		for _, sub := range c.Commands() {
			paths = append(paths, []string{c.Name(), sub.Name()})
		}
		for _, p := range paths {
			if got, want := help(p, p), help(nil, p); got != want {
				t.Errorf("oca %s --help differs when only %s is built:\n%s\n--- whole tree:\n%s", strings.Join(p, " "), c.Name(), got, want)
			}
		}
		part := (&app{}).newRoot([]string{c.Name()})
		// The command and help; completion writes scripts for the whole tree.
		if n := len(part.Commands()); n > 2 && c.Name() != "completion" {
			t.Errorf("oca %s built %d commands", c.Name(), n)
		}
	}
}
