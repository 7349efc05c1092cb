package shells_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

// ocaBinary is oca, built once for the package's tests.
func ocaBinary(t *testing.T) string { return shelltest.Oca(t) }

// TestMain runs the tests in a world of their own (testsys.Main), more of
// them at once than go test's default of one per CPU where -parallel is
// not given: they spend their time waiting for shells, not computing.
func TestMain(m *testing.M) {
	testsys.MoreParallel(2)
	code := testsys.Main(m)
	shelltest.RemoveBuilds()
	os.Exit(code)
}

// world is a user's home with two accounts and some projects:
//
//	~/work        account work
//	~/work/sub
//	~/play        account play
//	~/play/inner  account work (nested: the nearest wins)
//	~/plain       no project file
type world struct {
	t    testing.TB
	home string
	bin  string
	env  []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	w := &world{t: t, home: home, bin: ocaBinary(t)}
	w.env = []string{
		"HOME=" + home,
		"PATH=" + filepath.Dir(w.bin) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb",
		"LANG=C.UTF-8",
		"USER=tester",
		// These tests are about the environment; servers have their own.
		"OCA_AUTOSTART=0",
		// Ports of this world's own, never another test's.
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}
	for _, d := range []string{"work/sub", "play/inner", "plain", ".local/share/direnv"} {
		w.mkdir(d)
	}
	w.oca("", "account", "add", "work")
	w.oca("", "account", "add", "play")
	w.oca("work", "init", "work")
	w.oca("play", "init", "play")
	w.oca("play/inner", "init", "work")
	return w
}

func (w *world) path(rel string) string { return filepath.Join(w.home, rel) }

func (w *world) mkdir(rel string) {
	w.t.Helper()
	if err := os.MkdirAll(w.path(rel), 0o755); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) write(rel, content string) {
	w.t.Helper()
	if err := os.WriteFile(w.path(rel), []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// oca runs the binary in ~/dir and returns its stdout.
func (w *world) oca(dir string, args ...string) string {
	w.t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Dir = w.path(dir)
	cmd.Env = append(append([]string{}, w.env...), "PWD="+cmd.Dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		w.t.Fatalf("oca %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}

func (w *world) password(name string) string {
	w.t.Helper()
	data, err := os.ReadFile(w.path(".local/state/oca/accounts/" + name + "/password"))
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// vars are the variables oca sets for account name.
func (w *world) vars(name string) map[string]string {
	w.t.Helper()
	var acc struct {
		Port      int    `json:"port"`
		DataHome  string `json:"data_home"`
		StateHome string `json:"state_home"`
		ConfigDir string `json:"config_dir"`
	}
	if err := json.Unmarshal([]byte(w.oca("", "account", "show", name, "--json")), &acc); err != nil {
		w.t.Fatal(err)
	}
	port := strconv.Itoa(acc.Port)
	return map[string]string{
		"XDG_DATA_HOME":            acc.DataHome,
		"XDG_STATE_HOME":           acc.StateHome,
		"OPENCODE_ACCOUNT":         name,
		"OPENCODE_PORT":            port,
		"OPENCODE_SERVER_URL":      "http://127.0.0.1:" + port,
		"OPENCODE_SERVER_PASSWORD": w.password(name),
		"OPENCODE_CONFIG_DIR":      acc.ConfigDir,
	}
}

func hookLine(shell, bin string) string {
	if shell == "fish" {
		return bin + " hook fish | source"
	}
	return `eval "$(` + bin + ` hook ` + shell + `)"`
}

func (w *world) start(shell, dir string, opt shelltest.Options) *shelltest.Shell {
	w.t.Helper()
	if opt.Env == nil {
		opt.Env = w.env
	}
	opt.Dir = w.path(dir)
	opt.Env = append(append([]string{}, opt.Env...), "PWD="+opt.Dir)
	if opt.Hook == "" {
		opt.Hook = hookLine(shell, w.bin)
	}
	return shelltest.Start(w.t, shell, opt)
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
		exp["PATH"] = shimDir(base) + ":" + base["PATH"]
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
		w := newWorld(t)
		env := append(append([]string{}, w.env...), "XDG_DATA_HOME="+nasty, "OPENCODE_PORT=keep me")
		s := w.start(shell, "", shelltest.Options{Env: env})
		base := s.Env()
		if base["XDG_DATA_HOME"] != nasty {
			t.Fatalf("the test's own XDG_DATA_HOME did not reach the shell: %q", base["XDG_DATA_HOME"])
		}
		expectEnv(t, "start", s.Env(), base, nil)

		out := s.Run("cd work")
		if !strings.Contains(out, "oca: account work") {
			t.Errorf("entering: want a line naming the account, got %q", out)
		}
		expectEnv(t, "enter work", s.Env(), base, w.vars("work"))

		if out := s.Run("cd sub"); strings.Contains(out, "oca:") {
			t.Errorf("moving within a project printed %q", out)
		}
		expectEnv(t, "work/sub", s.Env(), base, w.vars("work"))

		s.Run("cd ../../play")
		expectEnv(t, "switch to play", s.Env(), base, w.vars("play"))

		s.Run("cd inner")
		expectEnv(t, "nested work in play", s.Env(), base, w.vars("work"))

		s.Run("cd ../../plain")
		expectEnv(t, "leave", s.Env(), base, nil)

		s.Run("cd ../work/sub")
		expectEnv(t, "enter a subdirectory directly", s.Env(), base, w.vars("work"))
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
			w := newWorld(t)
			s := w.start(shell, "", opt)
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
			expectEnv(t, "with a recorder", s.Env(), base, w.vars("work"))
		}
	})
}
