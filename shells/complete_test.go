package shells_test

import (
	"strings"
	"testing"

	"github.com/oca-sh/oca/shells/shelltest"
)

// TestCompletion loads each shell's completion script as a user would, types
// an account name's first letters and TAB, and runs the completed line: it
// shows the account only if completion filled in its name.
func TestCompletion(t *testing.T) {
	forEachShell(t, func(t *testing.T, shell string) {
		w := newWorld(t)
		w.oca("", "account", "add", "zebra-client")
		var post string
		switch shell {
		case "bash":
			post = `eval "$(` + w.bin + ` completion bash)"`
		case "zsh":
			post = "autoload -Uz compinit && compinit -u -D\n" + `eval "$(` + w.bin + ` completion zsh)"`
		case "fish":
			post = w.bin + " completion fish | source"
		}
		s := w.start(shell, "", shelltest.Options{Post: post})
		out := s.Run("oca account show zeb\t")
		if !strings.Contains(out, "account:       zebra-client") {
			t.Errorf("account name not completed: %q", out)
		}
		out = s.Run("oca acc\t list --quiet")
		if !strings.Contains(out, "zebra-client") {
			t.Errorf("subcommand not completed: %q", out)
		}
	})
}
