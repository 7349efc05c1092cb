package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// heavy are packages the hook's exporting binary must not link: each runs
// its initialisation at every start of a binary that links it, and the
// hook starts that binary each time a shell enters a project.
var heavy = []string{
	"net", "net/netip", "net/http", "crypto/tls", "crypto/x509", "regexp", "text/template",
	"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/fsnotify/fsnotify", "mvdan.cc/sh/v3/syntax",
	"github.com/oca-sh/oca/hook/supervisor", "github.com/oca-sh/oca/hook/opencode",
	"github.com/oca-sh/oca/hook/shim/proxy", "github.com/oca-sh/oca/hook/doctor",
	// Its package initialisation reads the local time zone, and decoding
	// a file costs more than a millisecond of a start (docs/benchmarks.md):
	// oca-export, built with shelltest.ExportTags, reads oca's records.
	"github.com/BurntSushi/toml",
}

// TestExportLinksOnlyEntering: cmd/oca-export, the binary the hook runs
// to enter a project, built as install.sh builds it (with
// shelltest.ExportTags), links none of the heavy packages (go list -deps),
// and oca does (so that the list names real packages).
func TestExportLinksOnlyEntering(t *testing.T) {
	t.Parallel()
	deps := func(pkg string, tags string) map[string]bool {
		out, err := exec.Command("go", "list", "-tags", tags, "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		m := map[string]bool{}
		for _, p := range strings.Fields(string(out)) {
			m[p] = true
		}
		return m
	}
	lean, full := deps("github.com/oca-sh/oca/cmd/oca-export", shelltest.ExportTags), deps("github.com/oca-sh/oca/cmd/oca", "")
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
		return runIn(t, dir, env, bin, args...)
	}
	h.oca("account", "add", "work")
	proj := h.initProject("proj", "work")
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

// TestExportBinaryParsesNothing: oca-export, built as install.sh builds it
// (no TOML parser), reads the accounts file and a project file through the
// records oca left of them, and hands a run to oca only when a file must
// be parsed: an accounts file changed since oca parsed it, one with a
// mistake to report (with its line, as oca reports it), a project file it
// has no trust record of. Whichever answers, the hook gets oca's answer;
// once oca has parsed, the next run is oca-export's own.
func TestExportBinaryParsesNothing(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	// oca-export beside an `oca` that logs each run it is handed.
	dir := t.TempDir()
	lean := filepath.Join(dir, "oca-export")
	if err := os.Link(filepath.Join(filepath.Dir(h.bin), "oca-export"), lean); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "handed")
	wrapper := "#!/bin/sh\necho \"$*\" >> " + shells.Quote(log) + "\nexec " + shells.Quote(h.bin) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "oca"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	handed := func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "\n")
	}
	run := func(bin, proj string) (string, string) {
		t.Helper()
		stdout, stderr, code := runIn(t, proj, h.env, bin, "export", "bash")
		if code != 0 {
			t.Fatalf("%s export bash: exit %d\n%s", bin, code, stderr)
		}
		return stdout, stderr
	}
	// lean runs oca-export in proj, and says whether it handed the run to
	// oca; its output is oca's, as oca answers just after.
	lean1 := func(proj string) (handedOff bool, stderr string) {
		t.Helper()
		before := handed()
		lo, le := run(lean, proj)
		handedOff = handed() > before
		wo, we := run(h.bin, proj)
		if lo != wo || le != we {
			t.Errorf("in %s, oca-export said:\n%s%s\noca says:\n%s%s", proj, lo, le, wo, we)
		}
		return handedOff, le
	}

	h.oca("account", "add", "work")
	proj := h.initProject("proj", "work")
	// oca init (and oca allow) leaves the record of its check of the file
	// it allowed: at the next prompt oca-export judges that content
	// without a parse, even while the file is too new for its signature
	// to stand for it.
	if off, _ := lean1(proj); off {
		t.Errorf("oca-export handed the project file oca init had just written to oca")
	}
	if off, _ := lean1(proj); off {
		t.Errorf("oca-export handed an unchanged project and accounts file to oca")
	}

	accounts := filepath.Join(h.home, ".config", "oca", "accounts.toml")
	orig, err := os.ReadFile(accounts)
	if err != nil {
		t.Fatal(err)
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(accounts, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(string(orig) + "# a comment: other content, the same accounts\n")
	if off, _ := lean1(proj); !off {
		t.Errorf("oca-export did not hand a changed accounts file to oca")
	}
	if off, _ := lean1(proj); off {
		t.Errorf("oca-export handed the accounts file to oca again, after oca parsed it")
	}
	write(strings.Replace(string(orig), "port = ", "port = 9", 1))
	if off, errOut := lean1(proj); !off || !strings.Contains(errOut, "accounts.toml:") || !strings.Contains(errOut, "key accounts.work.port: port 9") {
		t.Errorf("an accounts file with a bad port: handed to oca %v, said %q; want oca's error, with the line", off, errOut)
	}
	write(string(orig))

	cloned := filepath.Join(h.home, "cloned")
	if err := os.Mkdir(cloned, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cloned, projectfile.Name), []byte("account = \"work\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if off, errOut := lean1(cloned); !off || !strings.Contains(errOut, "if you trust it, run: oca allow") {
		t.Errorf("an untrusted project file: handed to oca %v, said %q; want oca's question", off, errOut)
	}
}

// runIn runs bin with args in dir (its PWD too) under env, and returns
// what it wrote and its exit status.
func runIn(t *testing.T, dir string, env []string, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = append(slices.Clip(env), "PWD="+dir), dir
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// initProject makes the directory rel in the home, and runs `oca init
// account` there: a project of account's that the user allowed.
func (h *cliHome) initProject(rel, account string) string {
	h.t.Helper()
	proj := filepath.Join(h.home, rel)
	if err := os.Mkdir(proj, 0o755); err != nil {
		h.t.Fatal(err)
	}
	if _, errOut, code := runIn(h.t, proj, h.env, h.bin, "init", account); code != 0 {
		h.t.Fatalf("oca init %s: exit %d\n%s", account, code, errOut)
	}
	return proj
}
