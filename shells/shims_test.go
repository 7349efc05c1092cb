package shells_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestLoginShimsInShells: a login profile put `$(oca shims)` first on
// PATH, then the rc file hooked the shell. Entering a project keeps that
// entry first; leaving leaves it; `opencode` is oca's throughout, in bash,
// zsh and fish.
func TestLoginShimsInShells(t *testing.T) {
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		cmd := exec.Command(w.Bin, "shims")
		cmd.Env = w.Env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("oca shims: %v", err)
		}
		dir := strings.TrimSpace(string(out))
		env := append([]string{}, w.Env...)
		for i, kv := range env {
			if p, ok := strings.CutPrefix(kv, "PATH="); ok {
				env[i] = "PATH=" + dir + ":" + p
			}
		}
		s := w.Start(shell, "", shelltest.Options{Env: env})
		base := s.Env()
		if !strings.HasPrefix(base["PATH"], dir+":") {
			t.Fatalf("the login PATH %q lacks %s first", base["PATH"], dir)
		}
		shim := filepath.Join(dir, "opencode")
		s.Run("cd work")
		if got := s.Env(); got["PATH"] != base["PATH"] || got["OPENCODE_ACCOUNT"] != "work" {
			t.Errorf("entered: PATH = %q, account %q; want PATH as it was, %q", got["PATH"], got["OPENCODE_ACCOUNT"], base["PATH"])
		}
		if got := shelltest.LastLine(s.Run("command -v opencode")); got != shim {
			t.Errorf("in the project, opencode is %q, want %q", got, shim)
		}
		s.Run("cd ../plain")
		expectEnv(t, "left", s.Env(), base, nil)
		if got := shelltest.LastLine(s.Run("command -v opencode")); got != shim {
			t.Errorf("after leaving, opencode is %q, want %q (the profile's)", got, shim)
		}
	})
}
