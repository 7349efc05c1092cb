package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// heavy are packages the hook's exporting binary must not link: each runs
// its initialisation at every start of a binary that links it, and the
// hook starts that binary each time a shell enters a project.
var heavy = []string{
	"net", "net/netip", "net/http", "crypto/tls", "crypto/x509", "regexp", "text/template",
	"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/fsnotify/fsnotify", "mvdan.cc/sh/v3/syntax",
	"github.com/oca-sh/oca/hook/supervisor", "github.com/oca-sh/oca/hook/opencode",
	"github.com/oca-sh/oca/hook/shim/proxy", "github.com/oca-sh/oca/hook/doctor",
}

// TestExportLinksOnlyEntering: cmd/oca-export, the binary the hook runs
// to enter a project, links none of the heavy packages (go list -deps),
// and oca does (so that the list names real packages).
func TestExportLinksOnlyEntering(t *testing.T) {
	t.Parallel()
	deps := func(pkg string) map[string]bool {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		m := map[string]bool{}
		for _, p := range strings.Fields(string(out)) {
			m[p] = true
		}
		return m
	}
	lean, full := deps("github.com/oca-sh/oca/cmd/oca-export"), deps("github.com/oca-sh/oca/cmd/oca")
	for _, p := range heavy {
		if lean[p] {
			t.Errorf("cmd/oca-export links %s: the hook pays its initialisation at every entry into a project", p)
		}
		if !full[p] && p != "mvdan.cc/sh/v3/syntax" {
			t.Errorf("%s is not linked by cmd/oca either: not a package of oca's", p)
		}
	}
	if !lean["github.com/oca-sh/oca/hook/export"] {
		t.Error("cmd/oca-export does not run hook/export")
	}
}

// TestHookRunsExportBinary: `oca hook` writes oca-export into the hook
// where it is installed beside oca, and oca itself where it is not.
func TestHookRunsExportBinary(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	lean := filepath.Join(filepath.Dir(h.bin), "oca-export")
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if out := h.oca("hook", sh); !strings.Contains(out, lean) {
			t.Errorf("oca hook %s does not run %s:\n%s", sh, lean, out)
		}
	}
	// A hard link, not a copy: a copy's writable descriptor, inherited
	// by a child another test forks meanwhile, made its exec fail with
	// "text file busy".
	alone := filepath.Join(t.TempDir(), "oca")
	if err := os.Link(h.bin, alone); err != nil {
		t.Fatal(err)
	}
	h.bin = alone
	if out := h.oca("hook", "bash"); !strings.Contains(out, "__oca_bin="+alone+"\n") {
		t.Errorf("without oca-export beside it, oca hook bash does not run oca:\n%s", out)
	}
}

// TestExportBinaryHandsOff: oca-export answers the hook's export as oca
// does, and hands everything else to the oca beside it (help, a bad shell,
// another command), and so an entry that must start the account's server:
// after it, the server runs.
func TestExportBinaryHandsOff(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	lean := filepath.Join(filepath.Dir(h.bin), "oca-export")
	run := func(dir string, env []string, bin string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = append(env, "PWD="+dir), dir
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}
	h.oca("account", "add", "work")
	proj := filepath.Join(h.home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(h.bin, "init", "work")
	cmd.Env, cmd.Dir = append(h.env, "PWD="+proj), proj
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oca init: %v\n%s", err, out)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, args := range [][]string{
		{"export", "bash", "--pid", pid},
		{"export", "zsh", "--pid=" + pid},
		{"export", "fish"},
		{"export", "json"},
		{"export", "nosuch"},
		{"export", "bash", "--bad"},
		{"export", "--help"},
		{"version"},
	} {
		wo, we, wc := run(proj, h.env, h.bin, args...)
		go_, ge, gc := run(proj, h.env, lean, args...)
		if go_ != wo || ge != we || gc != wc {
			t.Errorf("oca-export %s: %d %q %q; oca: %d %q %q", strings.Join(args, " "), gc, go_, ge, wc, wo, we)
		}
	}

	// With autostart, and no server: oca starts it.
	setOpencode(t, h.home, shelltest.FakeOpencode(t))
	var env []string
	for _, kv := range h.env {
		if kv != "OCA_AUTOSTART=0" {
			env = append(env, kv)
		}
	}
	t.Cleanup(func() { run(h.home, h.env, h.bin, "server", "stop", "work") })
	out, errOut, code := run(proj, env, lean, "export", "bash", "--pid", pid)
	if code != 0 || !strings.Contains(out, "export OPENCODE_ACCOUNT=work") {
		t.Fatalf("oca-export export bash with autostart: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(h.home, h.env, h.bin, "server", "wait", "work", "--timeout", "2m"); code != 0 {
		t.Errorf("no server after entering with autostart: %s%s", out, errOut)
	}
}
