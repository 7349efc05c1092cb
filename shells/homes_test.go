package shells_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestStateHomeExportedAndRestored: inside a project XDG_STATE_HOME is the
// account's state home (OpenCode 2 finds its server there), switching
// accounts changes it in one step, and leaving puts it back exactly:
// unset where it was unset, its value to the byte where it had one, and a
// value the user gave it inside stays theirs; in bash, zsh and fish.
func TestStateHomeExportedAndRestored(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		w.Mkdir(".local/state/nvim")
		set := "export XDG_STATE_HOME=" + w.Path("mine")
		if shell == "fish" {
			set = "set -gx XDG_STATE_HOME " + w.Path("mine")
		}
		// Unset, then set as oca would never write it (the same directory,
		// so that oca's trust records are where `oca init` made them).
		for _, before := range []*string{nil, ptr(w.Path(".local//state/"))} {
			env := w.Env
			if before != nil {
				env = append(append([]string{}, w.Env...), "XDG_STATE_HOME="+*before)
			}
			s := w.Start(shell, "plain", shelltest.Options{Env: env})
			base := s.Env()
			if v, ok := base["XDG_STATE_HOME"]; (before == nil) == ok || (before != nil && v != *before) {
				t.Fatalf("the shell did not start with the test's XDG_STATE_HOME: %q %v", v, ok)
			}
			work := w.Vars("work")
			if work["XDG_STATE_HOME"] != w.Path(".local/state/oca/homes/work") {
				t.Fatalf("work's state home: %q", work["XDG_STATE_HOME"])
			}
			s.Run("cd ../work")
			expectEnv(t, "inside", s.Env(), base, work)
			s.Run("cd ../play")
			expectEnv(t, "switched", s.Env(), base, w.Vars("play"))
			s.Run("cd ../plain")
			expectEnv(t, "left", s.Env(), base, nil)

			s.Run("cd ../work")
			s.Run(set)
			s.Run("cd ../plain")
			got := s.Env()
			if got["XDG_STATE_HOME"] != w.Path("mine") {
				t.Errorf("a value set inside was not kept: %q", got["XDG_STATE_HOME"])
			}
			if _, ok := got["OPENCODE_ACCOUNT"]; ok {
				t.Errorf("left with the account still set: %q", got["OPENCODE_ACCOUNT"])
			}
			s.Close()
		}
		// The user's state of other programs, seen through the state home.
		if l, err := os.Readlink(w.Path(".local/state/oca/homes/work/nvim")); err != nil || l != w.Path(".local/state/nvim") {
			t.Errorf("nvim in the state home -> %q %v", l, err)
		}
	})
}

func ptr(s string) *string { return &s }

// TestDirenvAllowInABoundProject: direnv's hook and oca's in one
// interactive bash, in a fresh HOME (no ~/.local/share/direnv yet).
// `direnv allow` inside a bound project writes its record under the
// account's data home; oca moves it to the real ~/.local/share/direnv and
// links it at the next prompt, so the .envrc loads, and loads again on
// re-entering (direnv's hook runs first at each prompt, with the user's
// own XDG_DATA_HOME), without a word of "blocked".
func TestDirenvAllowInABoundProject(t *testing.T) {
	t.Parallel()
	testsys.NeedTool(t, "direnv")
	shelltest.Require(t, "bash")
	home := filepath.Join(t.TempDir(), "home")
	w := &world{T: t, Home: home, Bin: shelltest.Oca(t)}
	w.Env = []string{
		"HOME=" + home,
		"PATH=" + filepath.Dir(w.Bin) + ":" + filepath.Dir(shelltest.FakeOpencode(t)) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb", "LANG=C.UTF-8", "USER=tester", "OCA_AUTOSTART=0",
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}
	w.Mkdir("proj")
	w.Oca("", "account", "add", "work")
	w.Oca("proj", "init", "work")
	w.Write("proj/.envrc", "export FROM_ENVRC=yes\n")
	if _, err := os.Lstat(w.Path(".local/share/direnv")); err == nil {
		t.Fatal("the test wants a HOME without direnv's data")
	}
	s := w.Start("bash", "", shelltest.Options{Post: `eval "$(direnv hook bash)"`})

	out := s.Run("cd proj")
	if !strings.Contains(out, "oca: account work") || !strings.Contains(out, "is blocked") {
		t.Fatalf("entering before the allow: %q", out)
	}
	s.Run("direnv allow")
	if out := s.Run("echo from=$FROM_ENVRC"); !strings.Contains(out, "from=yes") {
		t.Errorf("after direnv allow, inside: %q", out)
	}
	dh := w.Path(".local/share/oca/accounts/work")
	if l, err := os.Readlink(filepath.Join(dh, "direnv")); err != nil || l != w.Path(".local/share/direnv") {
		t.Errorf("direnv in the data home -> %q %v, want a link to the real one", l, err)
	}
	if es, err := os.ReadDir(w.Path(".local/share/direnv/allow")); err != nil || len(es) != 1 {
		t.Errorf("direnv's record in the real ~/.local/share/direnv: %v %v", es, err)
	}
	if out := s.Run("cd"); !strings.Contains(out, "direnv: unloading") {
		t.Errorf("leaving: %q", out)
	}
	if out := s.Run("echo from=$FROM_ENVRC"); !strings.Contains(out, "from=\n") && !strings.HasSuffix(strings.TrimSpace(out), "from=") {
		t.Errorf("after leaving: %q", out)
	}
	out = s.Run("cd proj")
	if strings.Contains(out, "blocked") || !strings.Contains(out, "direnv: loading") {
		t.Errorf("re-entering: %q", out)
	}
	env := s.Env()
	if env["FROM_ENVRC"] != "yes" || env["XDG_DATA_HOME"] != dh || env["OPENCODE_ACCOUNT"] != "work" {
		t.Errorf("re-entered: FROM_ENVRC=%q XDG_DATA_HOME=%q OPENCODE_ACCOUNT=%q", env["FROM_ENVRC"], env["XDG_DATA_HOME"], env["OPENCODE_ACCOUNT"])
	}
	if out := s.Run("oca doctor"); strings.Contains(out, "direnv") {
		t.Errorf("doctor names direnv: %q", out)
	}
}
