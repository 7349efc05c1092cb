package hook

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/shells"
)

// TestStateHomeEnteredAndLeft: XDG_STATE_HOME is the account's inside a
// project (OpenCode 2 finds its server's registration there), put back
// exactly on leaving (unset where it was unset, its value where it had
// one), a value the user gave it inside stays theirs, and switching
// accounts changes it in one step. The state home links the user's real
// state home but oca's own directory, which holds it.
func TestStateHomeEnteredAndLeft(t *testing.T) {
	w := newWorld(t)
	w.mkdir(".local/state/nvim")
	work := w.project("work", "work")
	play := w.project("play", "play")
	sh := w.account("work").StateHome
	if sh != w.path(".local/state/oca/homes/work") {
		t.Fatalf("work's state home %q", sh)
	}
	// Unset, set, and set as oca would not write it (the same directory).
	for _, prev := range []*string{nil, ptr(w.path(".local/state")), ptr(w.path(".local/state") + "//")} {
		base := maps.Clone(w.base)
		if prev != nil {
			base["XDG_STATE_HOME"] = *prev
		}
		env, out := w.cd(base, work)
		w.wantBound(env, "work")
		if out.Entered != "work" {
			t.Fatalf("enter: %+v", out)
		}
		// Switching: one step, nothing unset.
		env, out = w.cd(env, play)
		w.wantBound(env, "play")
		for _, c := range out.Changes {
			if c.Unset {
				t.Errorf("switch unsets %s", c.Name)
			}
		}
		env, _ = w.cd(env, w.home)
		wantEnv(t, env, base)

		// A value the user set inside stays theirs.
		env, _ = w.cd(base, work)
		env["XDG_STATE_HOME"] = "/mine"
		env, _ = w.cd(env, w.home)
		want := maps.Clone(base)
		want["XDG_STATE_HOME"] = "/mine"
		wantEnv(t, env, want)
	}
	if got := readlinkT(t, filepath.Join(sh, "nvim")); got != w.path(".local/state/nvim") {
		t.Errorf("nvim -> %q", got)
	}
	for _, n := range []string{"oca", "opencode"} {
		if _, err := os.Lstat(filepath.Join(sh, n)); err == nil {
			t.Errorf("the state home has %s", n)
		}
	}
	if fi, err := os.Stat(sh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state home: %v %v", fi, err)
	}
}

func ptr(s string) *string { return &s }

func readlinkT(t *testing.T, p string) string {
	t.Helper()
	l, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	return l
}

// TestOcasDirsFromTheStateHomeBeforeOca: inside a project, and below `oca
// exec`, XDG_STATE_HOME is the account's; oca's own state directory
// (trust records, stamps, the shim, passwords) is still the user's
// $XDG_STATE_HOME/oca, for Export, Which and Before alike.
func TestOcasDirsFromTheStateHomeBeforeOca(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	play := w.project("play", "play")
	w.mkdir("proj/sub")
	base := maps.Clone(w.base)
	base["XDG_STATE_HOME"] = w.path("st")
	// The allow records are where the user's XDG_STATE_HOME says.
	w.dirs.State = w.path("st/oca")
	w.project("proj", "work")
	w.project("play", "play")
	self := filepath.Join(t.TempDir(), "oca")

	env, _ := w.cd(base, proj)
	if env["XDG_STATE_HOME"] != w.path("st/oca/homes/work") {
		t.Fatalf("XDG_STATE_HOME = %q", env["XDG_STATE_HOME"])
	}
	if got := Before(env)["XDG_STATE_HOME"]; got != w.path("st") {
		t.Errorf("Before: XDG_STATE_HOME = %q", got)
	}
	// A watch that fires inside: still bound, nothing made under the
	// account's state home as if it were the user's.
	out := w.export(env, filepath.Join(proj, "sub"))
	wantNoVarChanges(t, out)
	if len(out.Messages) != 0 || out.Account != "work" {
		t.Fatalf("inside: %+v", out)
	}
	for _, x := range out.Watch {
		if strings.HasPrefix(x.Stamp, env["XDG_STATE_HOME"]) {
			t.Errorf("a stamp under the account's state home: %s", x.Stamp)
		}
	}
	out, err := Export(Input{Env: env, PWD: proj, Self: self})
	if err != nil || out.Shim != w.path("st/oca/shim") {
		t.Errorf("shim directory %q, %v; want the user's", out.Shim, err)
	}
	if _, err := os.Stat(filepath.Join(env["XDG_STATE_HOME"], "oca")); !os.IsNotExist(err) {
		t.Errorf("oca's directory made in the account's state home: %v", err)
	}
	// Which, inside the project and below `oca exec`.
	if name, msgs, err := Which(Input{Env: env, PWD: play}); err != nil || name != "play" {
		t.Errorf("Which inside a project = %q %q %v", name, msgs, err)
	}
	xenv := Environ(env, w.account("work"), "pw")
	if xenv["XDG_STATE_HOME"] != w.path("st/oca/homes/work") {
		t.Fatalf("Environ: XDG_STATE_HOME = %q", xenv["XDG_STATE_HOME"])
	}
	if got := Before(xenv)["XDG_STATE_HOME"]; got != w.path("st") {
		t.Errorf("Before below oca exec: XDG_STATE_HOME = %q", got)
	}
	if name, msgs, err := Which(Input{Env: xenv, PWD: play}); err != nil || name != "play" {
		t.Errorf("Which below oca exec = %q %q %v", name, msgs, err)
	}
	// A hooked shell below oca exec enters play's project.
	in, out := w.cd(xenv, play)
	w.wantBound(in, "play")
	if len(out.Messages) != 0 {
		t.Errorf("below oca exec: %q", out.Messages)
	}
}

// TestHomesTakeBackWhatOthersMake: a program's first write inside a
// project (direnv's first `direnv allow`, atuin's history) makes its
// directory in the account's data home. The shell watches the data home,
// so the next prompt runs oca, which moves the new entry to the user's
// real home and links it: leaving and coming back, direnv finds its
// record. The state home is brought up to date with it, and on entering
// (it is not watched: less rewrites its history there at each exit). An
// entry the real home has too is left for the user (oca doctor names it).
func TestHomesTakeBackWhatOthersMake(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	env, out := w.cd(w.base, proj)
	a := w.account("work")
	if !slices.ContainsFunc(out.Watch, func(x Watch) bool { return x.Path == a.DataHome && x.Stamp != Absent && x.Stamp != Present }) {
		t.Errorf("the data home is not watched: %+v", out.Watch)
	}
	if slices.ContainsFunc(out.Watch, func(x Watch) bool { return x.Path == a.StateHome }) {
		t.Errorf("the state home is watched: %+v", out.Watch)
	}
	if c := anyChanged(t, out.Watch); len(c) != 0 {
		t.Fatalf("fresh watches report changes: %+v", c)
	}
	// Nothing changed: a run (another watch fired) leaves the homes alone.
	out = w.export(env, proj)
	wantNoChanges(t, out)

	// What atuin and less do inside the project.
	w.write(".local/share/oca/accounts/work/atuin/history.db", "ls")
	w.write(".local/state/oca/homes/work/lesshst", ".less-history-file:")
	c := anyChanged(t, out.Watch)
	if len(c) != 1 || c[0].Path != a.DataHome {
		t.Fatalf("changed watches %+v, want the data home", c)
	}
	out = w.export(env, proj)
	wantNoChanges(t, out)
	if len(out.Messages) != 0 {
		t.Errorf("messages %q", out.Messages)
	}
	for rel, real := range map[string]string{
		".local/share/oca/accounts/work/atuin": w.path(".local/share/atuin"),
		".local/state/oca/homes/work/lesshst":  w.path(".local/state/lesshst"),
	} {
		if got := readlinkT(t, w.path(rel)); got != real {
			t.Errorf("%s -> %q, want %q", rel, got, real)
		}
	}
	if data, err := os.ReadFile(w.path(".local/share/atuin/history.db")); err != nil || string(data) != "ls" {
		t.Errorf("atuin's history in the real data home: %q %v", data, err)
	}
	if c := anyChanged(t, out.Watch); len(c) != 0 {
		t.Errorf("after the move, watches report changes: %+v", c)
	}
	// The state home alone changed: nothing runs at the prompt; entering
	// again takes it in.
	w.write(".local/state/oca/homes/work/nvim/shada", "")
	if c := anyChanged(t, out.Watch); len(c) != 0 {
		t.Errorf("a change in the state home alone fires %+v", c)
	}
	env, _ = w.cd(env, w.home)
	env, _ = w.cd(env, proj)
	if got := readlinkT(t, filepath.Join(a.StateHome, "nvim")); got != w.path(".local/state/nvim") {
		t.Errorf("re-entered: nvim -> %q", got)
	}
	// Both hold it: nothing moves, nothing is said at the prompt.
	w.mkdir(".local/share/mise")
	env, _ = w.cd(env, w.home)
	env, _ = w.cd(env, proj)
	w.write(".local/share/oca/accounts/work/zoxide/db.zo", "")
	os.Remove(w.path(".local/share/oca/accounts/work/mise"))
	w.write(".local/share/oca/accounts/work/mise/x", "the account's")
	w.mkdir(".local/share/zoxide")
	out = w.export(env, proj)
	if len(out.Messages) != 0 {
		t.Errorf("messages %q", out.Messages)
	}
	for _, n := range []string{"mise", "zoxide"} {
		if fi, err := os.Lstat(filepath.Join(a.DataHome, n)); err != nil || !fi.IsDir() {
			t.Errorf("%s in the account's data home: %v %v", n, fi, err)
		}
	}
}

// TestHomesAcrossFileSystems: an account's data home on another file
// system than the user's data home: entering moves nothing and says so in
// one line, with the mv quoted for the shell that asked; it binds all the
// same.
func TestHomesAcrossFileSystems(t *testing.T) {
	w := newWorld(t)
	dh := filepath.Join(testsys.Tmpfs(t, "1m"), "it's work")
	w.write(".config/oca/accounts.toml", accountsTOML+"\n[accounts.far]\nport = 10103\ndata_home = \""+dh+"\"\n")
	proj := w.project("proj", "far")
	if err := os.MkdirAll(filepath.Join(dh, "atuin"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bash", "fish"} {
		sh, err := shells.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Export(Input{Env: w.base, PWD: proj, Quote: sh.Quote})
		if err != nil {
			t.Fatal(err)
		}
		wantMessage(t, out, "account far: atuin in the data home "+dh, "another file system",
			"mv -n "+sh.Quote(filepath.Join(dh, "atuin"))+" "+sh.Quote(w.dirs.Data)+"/")
		if out.Entered != "far" {
			t.Errorf("%s: not bound: %+v", name, out)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dh, "atuin")); err != nil || !fi.IsDir() {
		t.Errorf("atuin moved: %v %v", fi, err)
	}
}
