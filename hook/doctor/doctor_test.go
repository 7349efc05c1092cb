package doctor

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/shells"
)

// world is a home with one account whose port the test chooses.
func world(t *testing.T, port int) (hook.Env, account.Dirs) {
	t.Helper()
	home := t.TempDir()
	env := hook.Env{"HOME": home, "PATH": os.Getenv("PATH"), "SHELL": "/bin/bash"}
	dirs, err := account.DirsFrom(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	err = account.Update(dirs, func(r *account.Registry) error {
		_, err := r.Add("work", account.AddOptions{Port: port})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte(`eval "$(oca hook bash)"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return env, dirs
}

func finding(fs []Finding, check, what string) *Finding {
	for i := range fs {
		if fs[i].Check == check && strings.Contains(fs[i].What, what) {
			return &fs[i]
		}
	}
	return nil
}

func writeStatus(t *testing.T, dirs account.Dirs, st map[string]any) string {
	t.Helper()
	dir := dirs.RuntimeDir("work")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(st)
	path := filepath.Join(dir, "status.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPortHeldByAnother(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	env, _ := world(t, port)
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	f := finding(fs, "server work", "is held by pid")
	if f == nil || f.Severity != Error || !strings.Contains(f.What, "pid "+itoa(os.Getpid())) {
		t.Fatalf("port held by this test: %+v", fs)
	}
	if !Failed(fs) {
		t.Error("Failed is false with an error finding")
	}
}

func TestStaleStatusFixed(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	// A supervisor pid that is surely gone.
	path := writeStatus(t, dirs, map[string]any{"account": "work", "phase": "ready", "port": 1, "supervisor_pid": 1 << 22})
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "server work", "stale status file"); f == nil || f.Severity != Warn {
		t.Fatalf("stale status: %+v", fs)
	}
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	if f := finding(fs, "server work", "stale status file"); f == nil || f.Fixed == "" {
		t.Errorf("--fix did not mend it: %+v", f)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the stale status file is still there: %v", err)
	}
}

func TestServerWithoutPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"healthy":true,"version":"x"}`))
	})}
	go srv.Serve(l)
	defer srv.Close()
	port := l.Addr().(*net.TCPAddr).Port
	env, dirs := world(t, port)
	// As if this process were the account's supervisor and its server.
	writeStatus(t, dirs, map[string]any{"account": "work", "phase": "ready", "port": port,
		"supervisor_pid": os.Getpid(), "opencode_pid": os.Getpid()})
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "server work", "answers without a password"); f == nil || f.Severity != Error || f.Fix != "oca server restart work" {
		t.Fatalf("password-less server: %+v", fs)
	}
	if f := finding(fs, "server work", "is held by"); f != nil {
		t.Errorf("the account's own server taken for a stranger: %+v", f)
	}
}

func TestNothingWrong(t *testing.T) {
	testsys.NeedOpencode(t) // the check runs it
	env, dirs := world(t, testsys.FreePort(t))
	if _, err := account.Password(dirs, "work"); err != nil {
		t.Fatal(err)
	}
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "account work", "is missing"); f == nil {
		t.Fatalf("a data home never made: %+v", fs)
	}
	Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	if fi, err := os.Stat(filepath.Join(env["HOME"], ".local/share/oca/accounts/work")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("--fix did not make the data home 0700: %v", err)
	}
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if Failed(fs) {
		t.Errorf("a healthy setup has findings: %+v", fs)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestOcaOnPath: doctor says when typing oca would not find this oca.
func TestOcaOnPath(t *testing.T) {
	env, _ := world(t, testsys.FreePort(t))
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(bin, "oca")
	testsys.WriteExecutable(t, self, []byte("#!/bin/sh\n"))
	other := filepath.Join(t.TempDir(), "oca")
	testsys.WriteExecutable(t, other, []byte("#!/bin/sh\n"))
	for _, c := range []struct {
		path     string
		severity Severity
		what     string
	}{
		{"/usr/bin:/bin", Warn, "oca is not on PATH (it is at " + self + ")"},
		{filepath.Dir(other) + ":" + bin, Warn, "the oca on PATH is " + other},
		{"/usr/bin:" + bin, OK, "oca is on PATH at " + self},
	} {
		env["PATH"] = c.path
		f := finding(Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Self: self}), "path", c.what)
		if f == nil || f.Severity != c.severity {
			t.Errorf("PATH=%s: finding %+v, want %s %q", c.path, f, c.severity, c.what)
		} else if c.severity != OK && !strings.Contains(f.Fix, "export PATH="+bin+":$PATH") {
			t.Errorf("PATH=%s: fix %q does not put %s first", c.path, f.Fix, bin)
		}
	}
}

// TestFixLeavesTheUsersLinks: a link the user made in a data home (nvim
// pointing elsewhere) is theirs, as the hook treats it: doctor neither
// reports it nor replaces it with --fix, while it still adds a link that
// is missing.
func TestFixLeavesTheUsersLinks(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	home := dirs.DefaultDataHome("work")
	for _, d := range []string{home, filepath.Join(dirs.Data, "nvim"), filepath.Join(dirs.Data, "mise")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mine := filepath.Join(env["HOME"], "my-nvim-data")
	if err := os.Symlink(mine, filepath.Join(home, "nvim")); err != nil {
		t.Fatal(err)
	}
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "account work", "lacks links to mise"); f == nil {
		t.Fatalf("a missing link not reported: %+v", fs)
	}
	if f := finding(fs, "account work", "nvim"); f != nil {
		t.Errorf("the user's link reported: %+v", f)
	}
	Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	if got, err := os.Readlink(filepath.Join(home, "nvim")); err != nil || got != mine {
		t.Fatalf("--fix replaced the user's link: %q %v", got, err)
	}
	if got, err := os.Readlink(filepath.Join(home, "mise")); err != nil || got != filepath.Join(dirs.Data, "mise") {
		t.Fatalf("--fix did not add the missing link: %q %v", got, err)
	}
}

// TestHomeEntriesFindings: what other programs made in an account's homes
// inside a project. An entry the user's own home lacks is named, and
// --fix moves it there and links it; one both hold is named with both
// paths and what to do, and --fix leaves it as it is (oca merges and
// deletes nothing); across file systems, the fix is the mv to run.
func TestHomeEntriesFindings(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	r, err := account.Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Accounts["work"]
	for _, d := range []string{filepath.Join(dirs.Data, "mise"), filepath.Join(dirs.StateHome(), "nvim")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := account.Prepare(dirs, a); err != nil {
		t.Fatal(err)
	}
	if _, err := account.Password(dirs, "work"); err != nil {
		t.Fatal(err)
	}
	// Inside a project: direnv's first allow, a mise of the account's own
	// (the link replaced), nvim's state written anew.
	for _, p := range []string{filepath.Join(a.DataHome, "mise"), filepath.Join(a.StateHome, "nvim")} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(a.DataHome, "direnv", "allow", "h"), filepath.Join(a.DataHome, "mise", "x"), filepath.Join(a.StateHome, "nvim", "shada")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "fish"})
	alone := finding(fs, "account work", "holds direnv, made there by other programs")
	if alone == nil || alone.Severity != Warn || !strings.Contains(alone.What, dirs.Data) || alone.Fix != "oca doctor --fix   # moves them there and links them, as entering a project does" {
		t.Fatalf("direnv in the data home alone: %+v", fs)
	}
	fish, _ := shells.Get("fish")
	for _, c := range []struct{ name, mine, theirs string }{
		{"mise", filepath.Join(a.DataHome, "mise"), filepath.Join(dirs.Data, "mise")},
		{"nvim", filepath.Join(a.StateHome, "nvim"), filepath.Join(dirs.StateHome(), "nvim")},
	} {
		f := finding(fs, "account work", c.name+" is both in the account's")
		if f == nil || f.Severity != Warn || !strings.Contains(f.What, c.mine) || !strings.Contains(f.What, c.theirs) ||
			!strings.HasPrefix(f.Fix, "rm -r "+fish.Quote(c.mine)+" && oca doctor --fix") || !strings.Contains(f.Fix, fish.Quote(c.theirs)) {
			t.Errorf("%s in both: %+v", c.name, f)
		}
	}
	Run(Input{Env: env, PWD: env["HOME"], Shell: "fish", Fix: true})
	if got, _ := os.Readlink(filepath.Join(a.DataHome, "direnv")); got != filepath.Join(dirs.Data, "direnv") {
		t.Errorf("--fix: direnv -> %q", got)
	}
	if _, err := os.Stat(filepath.Join(dirs.Data, "direnv", "allow", "h")); err != nil {
		t.Errorf("--fix: direnv's record: %v", err)
	}
	for _, p := range []string{filepath.Join(a.DataHome, "mise", "x"), filepath.Join(a.StateHome, "nvim", "shada")} {
		if fi, err := os.Lstat(filepath.Dir(p)); err != nil || !fi.IsDir() {
			t.Errorf("--fix touched %s: %v %v", filepath.Dir(p), fi, err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("--fix: %v", err)
		}
	}
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "account work", "holds direnv"); f != nil {
		t.Errorf("after --fix: %+v", f)
	}
	if f := finding(fs, "account work", "mise is both"); f == nil {
		t.Errorf("after --fix, mise in both is no longer named: %+v", fs)
	}

	// Across file systems: the mv to run, and no --fix.
	far := filepath.Join(testsys.Tmpfs(t, "1m"), "far")
	if err := account.Update(dirs, func(r *account.Registry) error {
		_, err := r.Create("far", account.AddOptions{Port: testsys.FreePort(t), DataHome: far})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(far, "atuin"), 0o700); err != nil {
		t.Fatal(err)
	}
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	f := finding(fs, "account far", "holds atuin")
	if f == nil || f.Severity != Warn || f.Fix != "mv -n "+filepath.Join(far, "atuin")+" "+dirs.Data+"/ && oca doctor --fix" || f.Fixed != "" {
		t.Fatalf("atuin across file systems: %+v", f)
	}
}
