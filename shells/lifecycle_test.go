package shells_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// envList turns a captured environment back into a list, for a new shell.
func envList(env map[string]string) []string {
	var l []string
	for k, v := range env {
		if k != "_" && k != "ZDOTDIR" {
			l = append(l, k+"="+v)
		}
	}
	return l
}

func TestInheritedShellPutsItselfRight(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		s.Run("cd work")
		inside := s.Env()

		// A shell started with the project's environment (a tmux pane, an
		// editor terminal) in another project, and in none.
		child := w.Start(shell, "play", shelltest.Options{Env: envList(inside)})
		expectEnv(t, "child in play", child.Env(), base, w.Vars("play"))
		child.Run("cd ..")
		expectEnv(t, "child left", child.Env(), base, nil)

		child2 := w.Start(shell, "plain", shelltest.Options{Env: envList(inside)})
		expectEnv(t, "child outside any project", child2.Env(), base, nil)

		child3 := w.Start(shell, "work/sub", shelltest.Options{Env: envList(inside)})
		expectEnv(t, "child in the same project", child3.Env(), base, w.Vars("work"))
	})
}

func TestSourcedTwiceAndNounset(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		line := shelltest.HookLine(shell, w.Bin)
		pre := "set -u"
		switch shell {
		case "zsh":
			pre = "setopt nounset"
		case "fish":
			pre = ""
		}
		s := w.Start(shell, "", shelltest.Options{Pre: pre, Hook: line + "\n" + line, Post: line})
		// Prompts outside any project, before the first project: the first
		// Run shows what the start printed as well.
		for i := range 3 {
			if out := s.Run("true"); strings.Contains(out, "unbound") || strings.Contains(out, "parameter not set") {
				t.Errorf("prompt %d outside a project, under nounset: %q", i, out)
			}
		}
		base := s.Env()
		s.Run("cd work")
		expectEnv(t, "entered", s.Env(), base, w.Vars("work"))
		var probe string
		switch shell {
		case "bash":
			probe = `declare -p PROMPT_COMMAND`
		case "zsh":
			probe = `echo "n=${#precmd_functions} pc=[$precmd_functions]"`
		case "fish":
			probe = `echo "n="(count (functions --handlers-type generic | string match -r '__oca_hook'))`
		}
		out := s.Run(probe)
		if shell == "bash" {
			if strings.Count(out, "__oca_hook") != 1 {
				t.Errorf("sourced three times: want __oca_hook once in PROMPT_COMMAND, got %q", out)
			}
		} else if !strings.Contains(out, "n=1") {
			t.Errorf("sourced three times: want one hook, got %q", out)
		}
		if out := s.Run("echo ok-$OPENCODE_ACCOUNT"); !strings.Contains(out, "ok-work") || strings.Contains(out, "unbound") || strings.Contains(out, "parameter not set") {
			t.Errorf("under nounset: %q", out)
		}
		s.Run("cd")
		expectEnv(t, "left", s.Env(), base, nil)
	})
}

func TestNonInteractiveDoesNothing(t *testing.T) {
	t.Parallel()
	w := shelltest.NewWorld(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		shelltest.Require(t, shell)
		var script string
		switch shell {
		case "bash":
			script = `eval "$(oca hook bash)"; cd work; echo "pc=[${PROMPT_COMMAND-}] a=[${OPENCODE_ACCOUNT-}]"`
		case "zsh":
			script = `eval "$(oca hook zsh)"; cd work; echo "pc=[${precmd_functions-}] a=[${OPENCODE_ACCOUNT-}]"`
		case "fish":
			script = `oca hook fish | source; cd work; set -l pc (functions -q __oca_hook; and echo yes); echo "pc=[$pc] a=[$OPENCODE_ACCOUNT]"`
		}
		cmd := exec.Command(shell, "-c", script)
		cmd.Dir = w.Home
		cmd.Env = w.Env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", shell, err, out)
		}
		if strings.TrimSpace(string(out)) != "pc=[] a=[]" {
			t.Errorf("%s non-interactive: the hook installed itself or printed: %q", shell, out)
		}
	}
}

// TestPromptStartsNoProcess counts the runs of oca over hundreds of prompts
// in an unchanged directory: the shell alone decides that nothing changed.
func TestPromptStartsNoProcess(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		counter := w.Path("runs")
		wrapper := w.Path("bin/oca")
		w.Mkdir("bin")
		script := "#!/bin/sh\necho run >> '" + counter + "'\nexec '" + w.Bin + "' \"$@\"\n"
		testsys.WriteExecutable(t, wrapper, []byte(script))
		// The hook calls the binary that printed it; point it at the wrapper.
		post := "__oca_bin='" + wrapper + "'"
		if shell == "fish" {
			post = "set -g __oca_bin '" + wrapper + "'"
		}
		s := w.Start(shell, "", shelltest.Options{Post: post})
		runs := func() int {
			data, _ := os.ReadFile(counter)
			return strings.Count(string(data), "run")
		}
		start := runs() // the first prompt ran it once
		s.Run("cd work")
		if got := runs() - start; got != 1 {
			t.Fatalf("entering ran oca %d times, want 1", got)
		}
		before := runs()
		const prompts = 150 // each Run shows two prompts: 300 prompts
		for i := 0; i < prompts; i++ {
			s.Run("true")
		}
		if got := runs() - before; got != 0 {
			t.Errorf("%d prompts in an unchanged directory ran oca %d times, want 0", 2*prompts, got)
		}
		// Within a project, and out of it, the shell needs no oca either: it
		// finds the nearest project file itself and undoes oca's variables
		// itself.
		s.Run("cd sub")
		s.Run("cd ..")
		if got := runs() - before; got != 0 {
			t.Errorf("moving within a project ran oca %d times, want 0", got)
		}
		s.Run("cd ../plain")
		s.Run("cd /")
		s.Run("cd ~/plain")
		if got := runs() - before; got != 0 {
			t.Errorf("leaving a project and moving outside ran oca %d times, want 0", got)
		}
		if got := s.Env()["OPENCODE_ACCOUNT"]; got != "" {
			t.Errorf("after leaving: OPENCODE_ACCOUNT=%q", got)
		}
		s.Run("cd ../play")
		if got := runs() - before; got != 1 {
			t.Errorf("entering another project ran oca %d times, want 1", got)
		}
		s.Run("cd ../work")
		if got := s.Env()["OPENCODE_ACCOUNT"]; got != "work" {
			t.Errorf("after %d prompts: OPENCODE_ACCOUNT=%q, want work", 2*prompts, got)
		}
	})
}

func TestForeignState(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		for _, bad := range []string{"garbage!", "eyJ2Ijo5OX0", strings.Repeat("A", 100000)} {
			env := append(append([]string{}, w.Env...), "__OCA_STATE="+bad, "XDG_DATA_HOME=/keep/me")
			s := w.Start(shell, "", shelltest.Options{Env: env})
			got := s.Env()
			if _, ok := got["__OCA_STATE"]; ok {
				t.Errorf("%.20q: a foreign __OCA_STATE should be dropped", bad)
			}
			if got["XDG_DATA_HOME"] != "/keep/me" {
				t.Errorf("%.20q: XDG_DATA_HOME changed to %q", bad, got["XDG_DATA_HOME"])
			}
			s.Run("cd work")
			s.Run("cd ..")
			if got := s.Env(); got["XDG_DATA_HOME"] != "/keep/me" {
				t.Errorf("%.20q: after a visit XDG_DATA_HOME is %q", bad, got["XDG_DATA_HOME"])
			}
		}
	})
}

// TestUserChangeSurvivesLeaving: a variable the user sets inside a project
// is theirs; leaving (done by the shell itself) leaves it alone and puts the
// others back.
func TestUserChangeSurvivesLeaving(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		env := append(append([]string{}, w.Env...), "OPENCODE_PORT=before")
		s := w.Start(shell, "", shelltest.Options{Env: env})
		base := s.Env()
		s.Run("cd work")
		set := "export XDG_DATA_HOME=/mine"
		if shell == "fish" {
			set = "set -gx XDG_DATA_HOME /mine"
		}
		s.Run(set)
		s.Run("cd ..")
		mine := map[string]string{}
		for k, v := range base {
			mine[k] = v
		}
		mine["XDG_DATA_HOME"] = "/mine"
		expectEnv(t, "left after a change of mine", s.Env(), mine, nil)
	})
}
