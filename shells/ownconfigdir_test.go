package shells_test

import (
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestOwnConfigDirNamedOnEntering: a user's own OPENCODE_CONFIG_DIR, which
// OpenCode reads one of, is replaced inside a project by the account's
// config dir: entering says so once, naming the user's value, after the
// account line; staying says nothing; leaving puts the user's value back;
// OCA_QUIET silences it with the account line. A user without one hears
// nothing of it. OPENCODE_CONFIG (one file) stays the user's. (It used to be replaced without a word.) In bash, zsh and
// fish.
func TestOwnConfigDirNamedOnEntering(t *testing.T) {
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		mine := w.Path("my-opencode-config")
		file := w.Path("my-opencode.json")
		env := append(append([]string{}, w.Env...), "OPENCODE_CONFIG_DIR="+mine, "OPENCODE_CONFIG="+file)
		s := w.Start(shell, "plain", shelltest.Options{Env: env})
		base := s.Env()

		out := s.Run("cd ../work")
		want := "oca: account work: OPENCODE_CONFIG_DIR is its config dir here, in place of yours (" + mine + "), which is back when you leave; OpenCode reads one, and the account's server never sees yours"
		if !strings.Contains(out, "oca: account work") || strings.Count(out, want) != 1 || ocaLines(out) != 2 {
			t.Errorf("entering: want the account line and %q once; got %q", want, out)
		}
		if got := s.Env()["OPENCODE_CONFIG"]; got != file {
			t.Errorf("OPENCODE_CONFIG inside: %q, want the user's %q", got, file)
		}
		for _, cmd := range []string{"true", "cd sub", "cd .."} {
			if out := s.Run(cmd); strings.Contains(out, "oca:") {
				t.Errorf("%s inside the project: want silence, got %q", cmd, out)
			}
		}
		s.Run("cd ../plain")
		expectEnv(t, "left", s.Env(), base, nil)

		// Quiet: neither line.
		s.Run("export OCA_QUIET=1")
		if out := s.Run("cd ../work"); strings.Contains(out, "oca:") {
			t.Errorf("entering with OCA_QUIET=1: %q", out)
		}
		s.Run("cd ../plain")

		// No OPENCODE_CONFIG_DIR of the user's: the account line alone.
		s2 := w.Start(shell, "plain", shelltest.Options{})
		if out := s2.Run("cd ../work"); ocaLines(out) != 1 || strings.Contains(out, "OPENCODE_CONFIG_DIR") {
			t.Errorf("entering without a config dir of the user's: %q", out)
		}
	})
}
