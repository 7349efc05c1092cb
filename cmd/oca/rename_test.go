package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
	"github.com/oca-sh/oca/projectfile"
)

// try runs the binary and returns its output and error.
func (h *cliHome) try(args ...string) (string, error) {
	h.t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env, cmd.Dir = h.env, h.home
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// servedHome is a home with account work, whose server (a fake OpenCode)
// is ready; its servers are stopped when the test ends.
func servedHome(t *testing.T) *cliHome {
	t.Helper()
	h := newCLIHome(t)
	h.oca("account", "add", "work")
	setOpencode(t, h.home, shelltest.FakeOpencode(t))
	h.oca("server", "start", "work")
	t.Cleanup(func() {
		for _, name := range []string{"work", "acme"} {
			h.try("server", "stop", name)
		}
		testsys.Eventually(t, testsys.OpencodeWait(), "no supervisor left", func() bool {
			return len(supervisorsOf(h.home)) == 0
		})
	})
	h.oca("server", "wait", "work", "--timeout", "90s")
	return h
}

// supervisorsOf lists the live `oca serve` processes of the home.
func supervisorsOf(home string) []int {
	var out []int
	for _, pid := range procfs.Pids() {
		if strings.Contains(procfs.CmdlineString(pid), " serve ") && procfs.EnvHas(pid, "HOME="+home) {
			out = append(out, pid)
		}
	}
	return out
}

func (h *cliHome) accounts() string { return filepath.Join(h.home, ".config", "oca", "accounts.toml") }

// editAccounts rewrites accounts.toml with edit, as a user's editor would.
func (h *cliHome) editAccounts(edit func(string) string) {
	h.t.Helper()
	b, err := os.ReadFile(h.accounts())
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(h.accounts(), []byte(edit(string(b))), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// TestEditedAccountStopsItsServer is issue 17's item 2 as the user met it:
// after renaming the account in accounts.toml (or making it external), its
// supervisor kept the port and restarted its OpenCode, `oca server stop
// OLD` said "no account", and the new name's server failed with "port in
// use". Now the supervisor stops within seconds, saying why in its log,
// and the new name's server starts on the port.
func TestEditedAccountStopsItsServer(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		edit      func(string) string
		next      string // the account whose server starts after
	}{
		{"renamed", "no longer in", func(s string) string { return strings.Replace(s, "[accounts.work]", "[accounts.acme]", 1) }, "acme"},
		{"external", "external now", func(s string) string {
			return strings.Replace(s, "[accounts.work]", "[accounts.work]\nexternal = true", 1)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := servedHome(t)
			h.editAccounts(tc.edit)
			testsys.Eventually(t, 30*time.Second, "the supervisor stopped", func() bool {
				return len(supervisorsOf(h.home)) == 0
			})
			log, _ := os.ReadFile(filepath.Join(h.stateDir("work"), "serve.log"))
			if !strings.Contains(string(log), tc.why) {
				t.Errorf("serve.log does not say why it stopped:\n%s", log)
			}
			if tc.next != "" {
				h.oca("server", "start", tc.next)
				h.oca("server", "wait", tc.next, "--timeout", "90s")
			}
		})
	}
}

// TestAccountRename: `oca account rename OLD NEW` stops the old name's
// server, moves the homes that are oca's defaults and the runtime dir
// (the password with it), keeps the sessions, and names the project files
// that still name the old name, leaving them as they are. A home at a
// path of the user's choosing stays, and it says so.
func TestAccountRename(t *testing.T) {
	h := servedHome(t)
	dirs, err := account.DirsFrom(func(k string) string { return map[string]string{"HOME": h.home}[k] })
	if err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(account.PasswordFile(dirs, "work"))
	if err != nil {
		t.Fatal(err)
	}
	session := filepath.Join(dirs.DefaultDataHome("work"), "opencode", "session-of-work")
	if err := os.WriteFile(session, []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A project that names work, allowed and judged (as old as the hook
	// needs to remember it).
	proj := filepath.Join(h.home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(proj, ".opencode-account.toml")
	if err := os.WriteFile(pf, []byte("account = \"work\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.oca("allow", proj)
	trust := projectfile.Trust{Dir: dirs.TrustDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }}
	if j, err := trust.Judge(pf, func(string) ([]string, error) { return nil, nil }); err != nil || j.Verdict != projectfile.Allowed {
		t.Fatalf("judge: %+v %v", j, err)
	}

	// A client attached: not stopped without a question answered.
	reg, err := account.Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	// Connected before rename runs: a rename that came first (a slow
	// client under load) would go through, and every try after it fail.
	client, err := net.Dial("tcp", "127.0.0.1:"+itoa(reg.Accounts["work"].Port))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := h.try("account", "rename", "work", "acme"); err == nil || !strings.Contains(out, "not renaming account work: its server has 1 client attached") || !strings.Contains(out, "--yes") {
		t.Fatalf("rename with a client attached: %v\n%s", err, out)
	}
	client.Close()

	out := h.oca("account", "rename", "work", "acme")
	for _, want := range []string{
		"renamed account work to acme",
		"moved its data home to ~/.local/share/oca/accounts/acme",
		"moved its state home to ~/.local/state/oca/homes/acme",
		"moved its config dir to ~/.config/oca/accounts/acme",
		"project files that still name work",
		pf,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rename does not say %q:\n%s", want, out)
		}
	}
	if n := len(supervisorsOf(h.home)); n != 0 {
		t.Errorf("%d supervisors run on after the rename", n)
	}
	if b, _ := os.ReadFile(pf); string(b) != "account = \"work\"\n" {
		t.Errorf("the project file was edited: %q", b)
	}
	if b, err := os.ReadFile(filepath.Join(dirs.DefaultDataHome("acme"), "opencode", "session-of-work")); string(b) != "kept" {
		t.Errorf("the sessions did not move: %v", err)
	}
	if b, err := os.ReadFile(account.PasswordFile(dirs, "acme")); err != nil || string(b) != string(pw) {
		t.Errorf("the password did not move: %v", err)
	}
	for _, gone := range []string{dirs.DefaultDataHome("work"), dirs.DefaultStateHome("work"), dirs.DefaultConfigDir("work"), dirs.RuntimeDir("work")} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", gone, err)
		}
	}
	if out, err := h.try("account", "show", "work"); err == nil {
		t.Errorf("account work is still there: %s", out)
	}
	h.oca("server", "start", "acme")
	h.oca("server", "wait", "acme", "--timeout", "90s")
	h.oca("server", "stop", "acme")

	// A data home of the user's choosing stays; so does an account of the
	// new name, which is refused.
	custom := filepath.Join(h.home, "mine")
	h.oca("account", "add", "ci", "--data-home", custom)
	out = h.oca("account", "rename", "ci", "build")
	if !regexp.MustCompile(`its data home stays at ~/mine \(a path of your choosing: not moved\)`).MatchString(out) {
		t.Errorf("rename does not say the custom data home stays:\n%s", out)
	}
	if _, err := os.Stat(custom); err != nil {
		t.Errorf("the custom data home: %v", err)
	}
	if out, err := h.try("account", "rename", "build", "acme"); err == nil || !strings.Contains(out, `account "acme" exists already`) {
		t.Errorf("rename onto an existing account: %v\n%s", err, out)
	}
}
