package shells_test

import (
	"os"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// bashCompletionPkg is the bash-completion package's loader (Debian's path).
const bashCompletionPkg = "/usr/share/bash-completion/bash_completion"

// TestCompletion loads each shell's completion script (cobra's, from `oca
// completion SHELL`) as a user would, types the first letters of a command,
// a flag or an account and TAB, and runs the completed line: it does what
// it should only if completion filled in the word. Account names come from
// the accounts file when TAB is pressed. bash runs twice: without the
// bash-completion package (the helpers oca brings) and with it.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "bash+bash-completion", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			name, _, _ := strings.Cut(shell, "+")
			shelltest.Require(t, name)
			w := shelltest.NewWorld(t)
			w.Oca("", "account", "add", "zebra-client")
			var post string
			switch shell {
			case "bash":
				post = `eval "$(` + w.Bin + ` completion bash)"`
			case "bash+bash-completion":
				if _, err := os.Stat(bashCompletionPkg); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("bash-completion is not installed, and CI must run every test: %v", err)
					}
					t.Skipf("bash-completion is not installed: %v", err)
				}
				post = ". " + bashCompletionPkg + "\n" + `eval "$(` + w.Bin + ` completion bash)"`
			case "zsh":
				post = "autoload -Uz compinit && compinit -u -D\n" + `eval "$(` + w.Bin + ` completion zsh)"`
			case "fish":
				post = w.Bin + " completion fish | source"
			}
			s := w.Start(name, "", shelltest.Options{Post: post})
			out := s.Run("oca account show zeb\t")
			if !strings.Contains(out, "account:       zebra-client") {
				t.Errorf("account name not completed: %q", out)
			}
			out = s.Run("oca acc\t list --quiet")
			if !strings.Contains(out, "zebra-client") {
				t.Errorf("command not completed: %q", out)
			}
			out = s.Run("oca account list --qui\t")
			if !strings.Contains(out, "zebra-client") || strings.Contains(out, "NAME") {
				t.Errorf("flag not completed: %q", out)
			}
			// An account added after the script was loaded: names are read
			// at each TAB, and a second ACCOUNT of status completes too.
			w.Oca("", "account", "add", "yak-server")
			out = s.Run("oca status zebra-client yak\t --json")
			if !strings.Contains(out, `"account": "yak-server"`) || !strings.Contains(out, `"account": "zebra-client"`) {
				t.Errorf("second account not completed: %q", out)
			}
		})
	}
}
