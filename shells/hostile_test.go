package shells_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// hostileNames are directory names that hold bytes a path may hold and a
// careless script mishandles. Every shell allows them all on Linux.
var hostileNames = []string{
	"new\nline",
	"trailing newline\n",
	"\nleading newline",
	"-leading-dash",
	"--",
	"star*",
	"*",
	"[bracket",
	"[a]",
	"two  spaces ",
	"quote'\"$x`id`",
	"back\\slash",
	"non-utf8-\xff\xfe",
}

// noise are what a shell prints when the hook's own code goes wrong.
var noise = []string{"test:", "unbound variable", "parameter not set", "unexpected argument", "command not found", "fish:", "bash:", "zsh:", "oca:"}

func checkQuiet(t *testing.T, step, out string) {
	t.Helper()
	for _, n := range noise {
		if strings.Contains(out, n) {
			t.Errorf("%s: the terminal shows %q: %q", step, n, out)
		}
	}
}

// TestHostileDirectoryNames: in a directory whose name holds a newline, a
// leading dash, a glob, spaces or bytes that are not UTF-8, each shell gives
// its prompt back at once, prints nothing, and binds the account of a
// project in (or below) such a directory and unbinds it on leaving. A shell
// that hangs fails the test after Run's deadline (20 s), and is killed.
func TestHostileDirectoryNames(t *testing.T) {
	t.Parallel()
	// One world for the three shells: they only read it (no server starts),
	// and its 26 projects cost a run of oca each.
	world := shelltest.NewWorld(t)
	world.AddPlay()
	env := append([]string{}, world.Env...)
	for i, name := range hostileNames {
		// name/c and name/proj (a project below the name); q/name is a
		// project whose own directory has the name, entered at q/name/sub.
		world.Mkdir(name + "/c")
		world.Mkdir(name + "/proj")
		world.Mkdir("q/" + name + "/sub")
		world.Oca(name+"/proj", "init", "work")
		world.Oca("q/"+name, "init", "play")
		env = append(env, fmt.Sprintf("D%d=%s", i, world.Path(name)), fmt.Sprintf("Q%d=%s", i, world.Path("q/"+name)))
	}
	forEachShell(t, func(t *testing.T, shell string) {
		w := *world
		w.T = t
		s := w.Start(shell, "", shelltest.Options{Env: env})
		checkQuiet(t, "start", s.Run("true"))
		base := s.Env()
		for i, name := range hostileNames {
			d, q := fmt.Sprintf("$D%d", i), fmt.Sprintf("$Q%d", i)
			step := func(what string) string { return fmt.Sprintf("%q: %s", name, what) }
			checkQuiet(t, step("cd into it"), s.Run(`cd "`+d+`"`))
			checkQuiet(t, step("next prompt"), s.Run("true"))
			checkQuiet(t, step("below it"), s.Run(`cd "`+d+`/c"`))
			checkQuiet(t, step("next prompt below"), s.Run("true"))
			expectEnv(t, step("plain"), s.Env(), base, nil)

			out := s.Run(`cd "` + d + `/proj"`)
			if !strings.Contains(out, "oca: account work") {
				t.Errorf("%s: %q", step("entering a project below it"), out)
			}
			expectEnv(t, step("project below it"), s.Env(), base, w.Vars("work"))
			checkQuiet(t, step("left the project below it"), s.Run(`cd "`+d+`"`))
			expectEnv(t, step("left the project below it"), s.Env(), base, nil)

			out = s.Run(`cd "` + q + `/sub"`)
			if !strings.Contains(out, "oca: account play") {
				t.Errorf("%s: %q", step("entering a project named so"), out)
			}
			checkQuiet(t, step("inside the project named so"), s.Run("true"))
			expectEnv(t, step("project named so"), s.Env(), base, w.Vars("play"))
			checkQuiet(t, step("left the project named so"), s.Run("cd /"))
			expectEnv(t, step("left the project named so"), s.Env(), base, nil)
			if t.Failed() {
				return
			}
		}
	})
}

// recording are rc lines that define, before the hook line, aliases or
// functions named as the builtins the hook relies on. Each records its use
// in __hits and then does the builtin's work, as a user's wrapper would;
// the hook must never call them. The rc line after the hook clears __hits
// (the user's own hook line used them).
var recording = map[string]map[string]string{
	"bash": {
		"functions": `__hits=''
builtin() { __hits+=" builtin"; command builtin "$@"; }
export() { __hits+=" export"; command builtin export "$@"; }
unset() { __hits+=" unset"; command builtin unset "$@"; }
eval() { __hits+=" eval"; command builtin eval "$@"; }`,
		"aliases": `__hits=''
alias builtin='__hits+=" builtin"; builtin'
alias export='__hits+=" export"; export'
alias unset='__hits+=" unset"; unset'
alias eval='__hits+=" eval"; eval'`,
	},
	"zsh": {
		"functions": `__hits=''
builtin() { __hits+=" builtin"; emulate -L zsh -o posix_builtins; command builtin "$@"; }
export() { __hits+=" export"; typeset -gx "$@"; }
unset() { __hits+=" unset"; emulate -L zsh -o posix_builtins; command unset "$@"; }
eval() { __hits+=" eval"; emulate -L zsh -o posix_builtins; command eval "$@"; }`,
		"aliases": `__hits=''
alias builtin='__hits+=" builtin"; builtin'
alias export='__hits+=" export"; export'
alias unset='__hits+=" unset"; unset'
alias eval='__hits+=" eval"; eval'`,
	},
	"fish": {
		// set, test, string, command, builtin, status... cannot be functions
		// in fish; these can. fish's own functions (cd, ...) call them too,
		// so only calls from within oca's functions count.
		"functions": `set -g __hits
function __hit; string match -q '*__oca_*' -- (status stack-trace); and set -g __hits $__hits $argv[1]; end
function true; __hit true; builtin true; end
function echo; __hit echo; builtin echo $argv; end
function source; __hit source; builtin source $argv; end
function count; __hit count; builtin count $argv; end
function contains; __hit contains; builtin contains $argv; end`,
		"aliases": `set -g __hits
function __hit; string match -q '*__oca_*' -- (status stack-trace); and set -g __hits $__hits $argv[1]; end
alias true '__hit true; builtin true'
alias source '__hit source; builtin source'
alias echo '__hit echo; builtin echo'`,
	},
}

// TestShadowedBuiltins: with aliases or functions named export, unset,
// builtin or eval defined before the hook line, and the hook sourced three
// times with IFS=:, the hook is installed once, binds and unbinds as
// always, and never calls the user's aliases or functions.
func TestShadowedBuiltins(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		for _, kind := range []string{"functions", "aliases"} {
			t.Run(kind, func(t *testing.T) {
				w := shelltest.NewWorld(t)
				line := shelltest.HookLine(shell, w.Bin)
				pre := recording[shell][kind]
				post := "__hits=''"
				if shell == "fish" {
					post = "set -g __hits"
				} else {
					pre += "\nIFS=:"
				}
				if shell == "bash" && kind == "aliases" {
					// PROMPT_COMMAND as an array, whose check IFS could break.
					pre += "\nPROMPT_COMMAND=(':')"
				}
				s := w.Start(shell, "", shelltest.Options{Pre: pre, Hook: line + "\n" + line + "\n" + line, Post: post})
				checkQuiet(t, "start", s.Run("true"))
				base := s.Env()
				s.Run("cd work")
				expectEnv(t, "entered", s.Env(), base, w.Vars("work"))
				s.Run("cd sub")
				s.Run("cd ../..")
				expectEnv(t, "left", s.Env(), base, nil)
				s.Run("cd work")
				expectEnv(t, "entered again", s.Env(), base, w.Vars("work"))
				s.Run("cd /")
				expectEnv(t, "left again", s.Env(), base, nil)
				show := `printf '%s\n' "hits=[$__hits]"`
				if out := s.Run(show); !strings.Contains(out, "hits=[]") {
					t.Errorf("the hook called the user's %s: %q", kind, out)
				}
				// The user's own use of them is seen: the test can fail.
				own := "function __oca_own; echo x; end; __oca_own"
				if shell != "fish" {
					own = "export __own=1; unset __own; eval true"
				}
				if out := s.Run(own + "; " + show); strings.Contains(out, "hits=[]") {
					t.Errorf("the user's %s were not called where the user called them: %q", kind, out)
				}
				var probe string
				switch shell {
				case "bash":
					probe = `declare -p PROMPT_COMMAND`
				case "zsh":
					probe = `print -r -- "n=${#precmd_functions}"`
				case "fish":
					probe = `builtin echo "n="(builtin count (functions --handlers-type generic | string match -r '__oca_hook'))`
				}
				out := s.Run(probe)
				if shell == "bash" {
					if strings.Count(out, "__oca_hook") != 1 {
						t.Errorf("sourced three times: want __oca_hook once in PROMPT_COMMAND, got %q", out)
					}
				} else if !strings.Contains(out, "n=1") {
					t.Errorf("sourced three times: want one hook, got %q", out)
				}
			})
		}
	})
}

// TestErrexitNounset: a shell with set -eu (bash) or ERR_EXIT and NO_UNSET
// (zsh) before the hook line. No prompt prints a complaint about an unset
// variable, and the hook is never the reason the shell exits: not at a
// prompt after a status that set -e let through, not entering or leaving,
// not with a broken project file, not with oca gone, not with a variable
// oca sets made read-only.
func TestErrexitNounset(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			shelltest.Require(t, shell)
			w := shelltest.NewWorld(t)
			w.AddPlay()
			pre := "set -eu"
			if shell == "zsh" {
				pre = "setopt ERR_EXIT NO_UNSET"
			}
			// The harness's marker keeps $?, which set -e would end the shell
			// for: here it returns 0.
			post := `__mark() { printf 'S%sY\n' "$1"; }`
			s := w.Start(shell, "plain", shelltest.Options{Pre: pre, Post: post})
			// The first Run shows what the start printed as well.
			for i := range 3 {
				checkQuiet(t, fmt.Sprintf("prompt %d outside a project", i), s.Run("true"))
			}
			checkQuiet(t, "a status set -e lets through", s.Run("false && true"))
			base := s.Env()
			s.Run("cd ../work")
			expectEnv(t, "entered", s.Env(), base, w.Vars("work"))
			checkQuiet(t, "inside, a status set -e lets through", s.Run("false && true"))
			checkQuiet(t, "left", s.Run("cd .."))
			expectEnv(t, "left", s.Env(), base, nil)

			w.Write("work/.opencode-account.toml", "account = \"work\"\nautostrt = true\n")
			out := s.Run("cd work")
			if !strings.Contains(out, "unknown key") {
				t.Errorf("broken project file: %q", out)
			}
			s.Run("cd ..")

			s.Run("__oca_bin=/nonexistent/oca")
			if out := s.Run("cd play"); !strings.Contains(out, "is gone") {
				t.Errorf("oca gone: %q", out)
			}
			s.Run("cd ..")
			s.Run("__oca_bin=" + w.Bin)

			s.Run("readonly OPENCODE_ACCOUNT=mine")
			s.Run("cd play")
			s.Run("cd ..")
			if out := s.Run("echo still-here"); !strings.Contains(out, "still-here") {
				t.Errorf("the shell is not usable: %q", out)
			}
		})
	}
}
