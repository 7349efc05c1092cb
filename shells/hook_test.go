package shells_test

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// These tests drive real interactive bash, zsh and fish through a pty with
// the hook installed as a user installs it, and assert the environment a
// command gets after each step.

// world is shelltest.World: a user's home with an account (two after
// AddPlay) and some projects.
type world = shelltest.World

// TestMain runs the tests in a world of their own (testsys.Main), more of
// them at once than go test's default of one per CPU where -parallel is
// not given: they spend their time waiting for shells, not computing.
func TestMain(m *testing.M) {
	testsys.MoreParallel(4)
	os.Exit(shelltest.Main(m))
}

// volatile are variables the shell itself changes from one command to the next.
var volatile = map[string]bool{"PWD": true, "OLDPWD": true, "_": true, "SHLVL": true, "ZDOTDIR": true, "__OCA_STATE": true}

// expectEnv checks that got is base with want on top, to the byte.
func expectEnv(t *testing.T, step string, got, base, want map[string]string) {
	t.Helper()
	exp := map[string]string{}
	for k, v := range base {
		exp[k] = v
	}
	for k, v := range want {
		exp[k] = v
	}
	if _, ok := want["PATH"]; len(want) > 0 && !ok && base["PATH"] != "" {
		// Inside a project oca's shim directory comes first on PATH.
		exp["PATH"] = shelltest.ShimDir(base) + ":" + base["PATH"]
	}
	var diffs []string
	for k, v := range exp {
		if volatile[k] {
			continue
		}
		if g, ok := got[k]; !ok {
			diffs = append(diffs, k+" is missing, want "+strconv.Quote(v))
		} else if g != v {
			diffs = append(diffs, k+"="+strconv.Quote(g)+", want "+strconv.Quote(v))
		}
	}
	for k, g := range got {
		if _, ok := exp[k]; !ok && !volatile[k] {
			diffs = append(diffs, k+"="+strconv.Quote(g)+" should not be set")
		}
	}
	_, hasState := got["__OCA_STATE"]
	if hasState != (len(want) > 0) {
		diffs = append(diffs, "__OCA_STATE set="+strconv.FormatBool(hasState)+", want "+strconv.FormatBool(len(want) > 0))
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Errorf("%s: environment differs:\n  %s", step, strings.Join(diffs, "\n  "))
	}
}

func forEachShell(t *testing.T, f func(t *testing.T, shell string)) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			t.Parallel()
			shelltest.Require(t, sh)
			f(t, sh)
		})
	}
}

// A value that survives only correct quoting.
const nasty = "/tmp/x y'z\"$HOME`id`\\n\n\tnew line é 日本 🙂 $(echo no) *?[a] ~ {a,b} ; & | < > # \\"

func TestEnterStaySwitchNestedLeave(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		env := append(append([]string{}, w.Env...), "XDG_DATA_HOME="+nasty, "OPENCODE_PORT=keep me")
		s := w.Start(shell, "", shelltest.Options{Env: env})
		base := s.Env()
		if base["XDG_DATA_HOME"] != nasty {
			t.Fatalf("the test's own XDG_DATA_HOME did not reach the shell: %q", base["XDG_DATA_HOME"])
		}
		expectEnv(t, "start", s.Env(), base, nil)

		out := s.Run("cd work")
		if !strings.Contains(out, "oca: account work") {
			t.Errorf("entering: want a line naming the account, got %q", out)
		}
		expectEnv(t, "enter work", s.Env(), base, w.Vars("work"))

		if out := s.Run("cd sub"); strings.Contains(out, "oca:") {
			t.Errorf("moving within a project printed %q", out)
		}
		expectEnv(t, "work/sub", s.Env(), base, w.Vars("work"))

		s.Run("cd ../../play")
		expectEnv(t, "switch to play", s.Env(), base, w.Vars("play"))

		s.Run("cd inner")
		expectEnv(t, "nested work in play", s.Env(), base, w.Vars("work"))

		s.Run("cd ../../plain")
		expectEnv(t, "leave", s.Env(), base, nil)

		s.Run("cd ../work/sub")
		expectEnv(t, "enter a subdirectory directly", s.Env(), base, w.Vars("work"))
		s.Run("cd /")
		expectEnv(t, "leave to /", s.Env(), base, nil)
	})
}

// recorders are prompt commands installed after oca's, as a user's later rc
// lines (starship, VS Code, bash-preexec) install theirs: each records the
// exit status it sees in $__rec.
var recorders = map[string][]shelltest.Options{
	"bash": {
		{Post: `PROMPT_COMMAND="${PROMPT_COMMAND}"$'\n''__rec=$?'`},
		{Pre: `PROMPT_COMMAND=(':')`, Post: `PROMPT_COMMAND+=('__rec=$?')`},
		// VS Code's shape: a prompt command that keeps the status it found.
		{Pre: `__vsc_cmd() { __vsc_status=$?; return $__vsc_status; }; PROMPT_COMMAND=__vsc_cmd`, Post: `PROMPT_COMMAND+=';__rec=$?'`},
		// bash-preexec's shape: one prompt command that runs precmd_functions.
		{Pre: `__bp_imported=defined; precmd_functions=(); __bp_precmd() { local s=$? f; for f in "${precmd_functions[@]}"; do (exit $s); "$f"; done; }; PROMPT_COMMAND=__bp_precmd`,
			Post: `__recf() { __rec=$?; }; precmd_functions+=(__recf)`},
	},
	"zsh":  {{Post: `__recf() { __rec=$?; }; precmd_functions+=(__recf)`}},
	"fish": {{Post: `function __recf --on-event fish_prompt; set -g __rec $status; end`}},
}

func TestExitStatusKept(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		for i, opt := range recorders[shell] {
			w := shelltest.NewWorld(t)
			w.AddPlay()
			s := w.Start(shell, "", opt)
			base := s.Env()
			st := "$?"
			if shell == "fish" {
				st = "$status"
			}
			for _, step := range []string{"cd work; false", "false", "cd ../play; false", "cd; false"} {
				s.Run(step)
				// The prompt after `false` ran oca's hook (which ran oca where
				// the directory changed), then the recorder.
				if out := s.Run("echo st=" + st + " rec=$__rec"); !strings.Contains(out, "st=1 rec=1") {
					t.Errorf("rc %d, after %q: status lost, got %q", i, step, out)
				}
			}
			s.Run("cd ~/work; true")
			if out := s.Run("echo st=" + st + " rec=$__rec"); !strings.Contains(out, "st=0 rec=0") {
				t.Errorf("rc %d, after true: got %q", i, out)
			}
			expectEnv(t, "with a recorder", s.Env(), base, w.Vars("work"))
		}
	})
}
