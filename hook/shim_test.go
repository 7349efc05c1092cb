package hook

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/hook/shim"
)

// The engine with Self set: entering puts oca's shim directory first on
// PATH, leaving takes exactly that entry off, whatever else the user did to
// PATH inside.

func (w *world) selfBin() string {
	w.t.Helper()
	return w.write("bin/oca", "#!/bin/sh\n")
}

func (w *world) cdShim(env Env, pwd string) (Env, *Output) {
	w.t.Helper()
	out, err := Export(Input{Env: env, PWD: pwd, Self: w.selfBin()})
	if err != nil {
		w.t.Fatalf("Export(%s): %v", pwd, err)
	}
	return applyChanges(env, out), out
}

func TestShimOnPath(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	other := w.project("other", "play")
	dir := shim.Dir(w.dirs.State)
	base := w.base["PATH"]

	env, out := w.cdShim(w.base, proj)
	if env["PATH"] != dir+":"+base || out.Shim != dir {
		t.Fatalf("entering: PATH = %q, shim %q; want %q first", env["PATH"], out.Shim, dir)
	}
	if link, err := os.Readlink(filepath.Join(dir, "opencode")); err != nil || link != w.path("bin/oca") {
		t.Errorf("shim link = %q, %v", link, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("shim dir: %v, %v", fi, err)
	}
	// oca's own view of the environment has PATH without the shim.
	if got := Before(env)["PATH"]; got != base {
		t.Errorf("Before: PATH = %q, want %q", got, base)
	}
	// Staying, and switching to another attaching account: PATH unchanged.
	env2, out := w.cdShim(env, proj)
	for _, c := range out.Changes {
		if c.Name == "PATH" {
			t.Errorf("staying changed PATH to %q", c.Value)
		}
	}
	env2, _ = w.cdShim(env2, other)
	if env2["PATH"] != dir+":"+base {
		t.Errorf("switching: PATH = %q", env2["PATH"])
	}
	// Leaving: exactly as before.
	left, out := w.cdShim(env2, w.home)
	if left["PATH"] != base || out.Shim != "" {
		t.Errorf("leaving: PATH = %q, shim %q; want %q", left["PATH"], out.Shim, base)
	}

	// The user's own change inside stays; only oca's entry comes off.
	env["PATH"] = "/mine:" + env["PATH"] + ":/end"
	left, _ = w.cdShim(env, w.home)
	if left["PATH"] != "/mine:"+base+":/end" {
		t.Errorf("leaving after a change of the user's: PATH = %q", left["PATH"])
	}
	// A new shell whose rc put a directory before oca's (a tmux pane): oca
	// goes first again, the rest stays in the user's order.
	env["PATH"] = "/npm/bin:" + dir + ":" + base
	env3, _ := w.cdShim(env, proj)
	if env3["PATH"] != dir+":/npm/bin:"+base {
		t.Errorf("re-entering: PATH = %q", env3["PATH"])
	}
}

func TestShimWaysOut(t *testing.T) {
	w := newWorld(t)
	w.write(".config/oca/accounts.toml", accountsTOML+"\n[accounts.plain]\nport = 10103\nattach = false\n")
	proj := w.project("proj", "work")
	plain := w.project("plain", "plain")
	dir := shim.Dir(w.dirs.State)
	base := w.base["PATH"]

	// attach = false: no shim, and switching there from an attaching
	// account takes it off.
	env, out := w.cdShim(w.base, plain)
	if env["PATH"] != base || out.Shim != "" {
		t.Errorf("attach = false: PATH = %q", env["PATH"])
	}
	env, _ = w.cdShim(w.base, proj)
	env, out = w.cdShim(env, plain)
	if env["PATH"] != base || out.Shim != "" || env["OPENCODE_ACCOUNT"] != "plain" {
		t.Errorf("switching to attach = false: PATH = %q, account %q", env["PATH"], env["OPENCODE_ACCOUNT"])
	}
	// OCA_ATTACH=0: no shim.
	off := Env{}
	for k, v := range w.base {
		off[k] = v
	}
	off["OCA_ATTACH"] = "0"
	env, out = w.cdShim(off, proj)
	if env["PATH"] != base || out.Shim != "" || env["OPENCODE_ACCOUNT"] != "work" {
		t.Errorf("OCA_ATTACH=0: PATH = %q", env["PATH"])
	}
	// No PATH at all: none is made up.
	nopath := Env{"HOME": w.home}
	env, out = w.cdShim(nopath, proj)
	if _, set := env["PATH"]; set || out.Shim != "" {
		t.Errorf("without PATH: PATH = %q", env["PATH"])
	}
	// Without Self (a library caller), no shim.
	env, _ = w.cd(w.base, proj)
	if strings.Contains(env["PATH"], dir) {
		t.Errorf("without Self: PATH = %q", env["PATH"])
	}
}

// A record naming something other than oca's shim as its PATH entry is not
// oca's: /usr/bin must never come off PATH.
func TestShimForeignRecord(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	env, _ := w.cdShim(w.base, proj)
	st, err := DecodeState(env[StateVar])
	if err != nil {
		t.Fatal(err)
	}
	st.Shim = "/usr/bin"
	env[StateVar] = EncodeState(st)
	if _, err := DecodeState(env[StateVar]); err == nil || !strings.Contains(err.Error(), "/usr/bin") {
		t.Errorf("DecodeState of a record naming /usr/bin: %v", err)
	}
	left, _ := w.cdShim(env, w.home)
	if !strings.Contains(left["PATH"], "/usr/bin") {
		t.Errorf("PATH lost /usr/bin: %q", left["PATH"])
	}
}

// Below `oca exec` (and OpenCode started by the shim), an oca finds the
// user's own directories through the record oca exec left, also inside a
// hooked shell that entered another project there.
func TestExecRecord(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	play := w.project("play", "play")
	base := w.base
	base["XDG_DATA_HOME"] = w.path(".local/share")
	work := w.account("work")
	env := Environ(base, work, "pw")
	if env[ExecVar] == "" || env["XDG_DATA_HOME"] != work.DataHome {
		t.Fatalf("Environ: %v", env)
	}
	wantEnv(t, Before(env), base)

	// A hooked shell below it enters a project of another account: its
	// directories are the user's, so the account is bound right.
	in, _ := w.cd(env, play)
	if in["XDG_DATA_HOME"] != w.account("play").DataHome {
		t.Errorf("XDG_DATA_HOME = %q, want play's", in["XDG_DATA_HOME"])
	}
	wantEnv(t, Before(in), base)
	// And back in work's project, and out.
	in, _ = w.cd(in, proj)
	w.wantBound(in, "work")
	out, _ := w.cd(in, w.home)
	if out["XDG_DATA_HOME"] != work.DataHome {
		t.Errorf("leaving below oca exec: XDG_DATA_HOME = %q, want oca exec's %q", out["XDG_DATA_HOME"], work.DataHome)
	}
	// A record the command changed (its own XDG_DATA_HOME) is not undone.
	env["XDG_DATA_HOME"] = "/mine"
	if got := Before(env)["XDG_DATA_HOME"]; got != "/mine" {
		t.Errorf("Before after a change of the command's: %q", got)
	}
}

// A login profile's PATH with `$(oca shims)` first: entering a project and
// leaving it keep that entry, which is the user's.
func TestShimOfTheLoginProfileStays(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	dir := shim.Dir(w.dirs.State)
	base := dir + ":" + w.base["PATH"]
	start := maps.Clone(w.base)
	start["PATH"] = base
	env, out := w.cdShim(start, proj)
	if env["PATH"] != base || out.Shim != "" || env["OPENCODE_ACCOUNT"] != "work" {
		t.Fatalf("entering: PATH = %q, shim %q, account %q; want PATH %q as it was", env["PATH"], out.Shim, env["OPENCODE_ACCOUNT"], base)
	}
	left, _ := w.cdShim(env, w.home)
	if left["PATH"] != base {
		t.Errorf("leaving: PATH = %q, want %q", left["PATH"], base)
	}
}
