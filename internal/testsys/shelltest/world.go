package shelltest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/shells"
)

// World is a user's home for the shells' tests (package shells, and
// shells/e2e's with the real OpenCode), made by NewWorld with an account
// and some projects, and by AddPlay with a second account:
//
//	~/work        account work
//	~/work/sub
//	~/plain       no project file
//	~/play        account play (AddPlay)
//	~/play/inner  account work (AddPlay; nested: the nearest wins)
type World struct {
	T    testing.TB
	Home string
	Bin  string   // oca (Oca), oca-export beside it
	Env  []string // the user's environment
}

// NewWorld makes the world above, in t's temporary directory.
func NewWorld(t testing.TB) *World {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	w := &World{T: t, Home: home, Bin: Oca(t)}
	w.Env = []string{
		"HOME=" + home,
		// The fake OpenCode before any real one: commands that name an
		// account's OpenCode ask it --version, which the real one takes
		// seconds of CPU to answer. Worlds with the real one: RealWorld.
		"PATH=" + filepath.Dir(w.Bin) + ":" + filepath.Dir(FakeOpencode(t)) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb",
		"LANG=C.UTF-8",
		"USER=tester",
		// These tests are about the environment; servers have their own.
		"OCA_AUTOSTART=0",
		// Ports of this world's own, never another test's.
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}
	for _, d := range []string{"work/sub", "plain", ".local/share/direnv"} {
		w.Mkdir(d)
	}
	// init --new adds the account and binds the directory in one run of
	// oca (a world is made for each of hundreds of tests, and most need
	// no second account: each run of oca is tens of milliseconds of CPU
	// on a loaded machine).
	w.Oca("work", "init", "work", "--new")
	return w
}

// AddPlay adds the second account, play, with its project ~/play, and
// ~/play/inner, bound to work.
func (w *World) AddPlay() {
	w.T.Helper()
	w.Mkdir("play/inner")
	w.Oca("play", "init", "play", "--new")
	w.Oca("play/inner", "init", "work")
}

// Path is rel within the home.
func (w *World) Path(rel string) string { return filepath.Join(w.Home, rel) }

// Mkdir makes ~/rel and its parents.
func (w *World) Mkdir(rel string) {
	w.T.Helper()
	if err := os.MkdirAll(w.Path(rel), 0o755); err != nil {
		w.T.Fatal(err)
	}
}

// Write writes ~/rel.
func (w *World) Write(rel, content string) {
	w.T.Helper()
	if err := os.WriteFile(w.Path(rel), []byte(content), 0o644); err != nil {
		w.T.Fatal(err)
	}
}

// Oca runs the binary in ~/dir and returns its stdout.
func (w *World) Oca(dir string, args ...string) string {
	w.T.Helper()
	cmd := exec.Command(w.Bin, args...)
	cmd.Dir = w.Path(dir)
	cmd.Env = append(append([]string{}, w.Env...), "PWD="+cmd.Dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		w.T.Fatalf("oca %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}

// Password is account name's server password.
func (w *World) Password(name string) string {
	w.T.Helper()
	data, err := os.ReadFile(w.Path(".local/state/oca/accounts/" + name + "/password"))
	if err != nil {
		w.T.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// AccountJSON is an account as `oca account list --json` shows it.
type AccountJSON struct {
	Name      string `json:"name"`
	Port      int    `json:"port"`
	DataHome  string `json:"data_home"`
	StateHome string `json:"state_home"`
	ConfigDir string `json:"config_dir"`
}

// Account is account name as oca's accounts file gives it, read with
// oca's own code (hook/account, as `oca account list --json` reads it) in
// this process: Vars asks for every prompt a test checks, and a run of oca
// costs tens of milliseconds of CPU on a loaded machine.
func (w *World) Account(name string) AccountJSON {
	w.T.Helper()
	env := map[string]string{}
	for _, kv := range w.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	dirs, err := account.DirsFrom(func(k string) string { return env[k] })
	if err != nil {
		w.T.Fatal(err)
	}
	reg, err := account.Load(dirs)
	if err != nil {
		w.T.Fatal(err)
	}
	acc, err := reg.Get(name)
	if err != nil {
		w.T.Fatal(err)
	}
	return AccountJSON{Name: acc.Name, Port: acc.Port, DataHome: acc.DataHome, StateHome: acc.StateHome, ConfigDir: acc.ConfigDir}
}

// Vars are the variables oca sets for account name.
func (w *World) Vars(name string) map[string]string {
	w.T.Helper()
	acc := w.Account(name)
	port := strconv.Itoa(acc.Port)
	return map[string]string{
		"XDG_DATA_HOME":            acc.DataHome,
		"XDG_STATE_HOME":           acc.StateHome,
		"OPENCODE_ACCOUNT":         name,
		"OPENCODE_PORT":            port,
		"OPENCODE_SERVER_URL":      "http://127.0.0.1:" + port,
		"OPENCODE_SERVER_PASSWORD": w.Password(name),
		"OPENCODE_CONFIG_DIR":      acc.ConfigDir,
	}
}

// Port is account name's port, as oca tells it.
func (w *World) Port(name string) int {
	w.T.Helper()
	return w.Account(name).Port
}

// HookLine is the rc line that installs oca's hook (bin) in shell.
func HookLine(shell, bin string) string {
	if shell == "fish" {
		return bin + " hook fish | source"
	}
	return `eval "$(` + bin + ` hook ` + shell + `)"`
}

// Start starts shell in ~/dir with the world's environment (opt.Env, when
// given, in its place) and oca's hook (opt.Hook, when given, in its place):
// the script `oca hook SHELL` prints, sourced from the file HookFile wrote
// (the tests of the rc line itself give HookLine).
func (w *World) Start(shell, dir string, opt Options) *Shell {
	w.T.Helper()
	if opt.Env == nil {
		opt.Env = w.Env
	}
	opt.Dir = w.Path(dir)
	opt.Env = append(append([]string{}, opt.Env...), "PWD="+opt.Dir)
	if opt.Hook == "" {
		opt.Hook = "source " + shells.Quote(HookFile(w.T, shell, w.Bin))
	}
	return Start(w.T, shell, opt)
}

// Procs lists the pids whose command line has every one of words (a word
// or a path ending in it).
func Procs(words ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		all := true
		for _, w := range words {
			found := false
			for _, a := range args {
				found = found || a == w || strings.HasSuffix(a, "/"+w)
			}
			all = all && found
		}
		if all {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Supervisors lists the pids of `oca serve NAME` run for the world (HOME
// is its home): other tests and other copies of the suite run supervisors
// of the same name.
func (w *World) Supervisors(name string) []int {
	var out []int
	for _, pid := range Procs("oca", "serve", name) {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil && HasHome(env, w.Home) {
			out = append(out, pid)
		}
	}
	return out
}

// HasHome tells whether an environment as /proc/PID/environ holds it
// (NUL-separated) sets HOME to home.
func HasHome(environ []byte, home string) bool {
	return bytes.Contains(append([]byte{0}, environ...), []byte("\x00HOME="+home+"\x00"))
}

// Listening tells whether a socket listens on 127.0.0.1:port (or on any
// address), as the kernel's socket table says: no connection is made, so a
// machine too busy to complete one in time does not read as nothing
// listening.
func Listening(port int) bool {
	socks, err := nettcp.Listeners(port)
	if err != nil {
		panic(err) // a Linux without /proc: no test of this package runs there
	}
	for _, s := range socks {
		if a := s.Local.Addr().Unmap(); a.IsLoopback() || a.IsUnspecified() {
			return true
		}
	}
	return false
}

// ShimDir is oca's shim directory for the environment env (the tests leave
// XDG_STATE_HOME unset unless they set it).
func ShimDir(env map[string]string) string {
	if s := env["XDG_STATE_HOME"]; s != "" {
		return filepath.Join(s, "oca", "shim")
	}
	return filepath.Join(env["HOME"], ".local", "state", "oca", "shim")
}

// LastLine is the last non-empty line of a command's output, before the
// prompt that followed it.
func LastLine(out string) string {
	out = strings.ReplaceAll(out, "⏎", "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(strings.ReplaceAll(lines[i], Prompt, ""))
		if l != "" && !strings.HasPrefix(l, "__mark") {
			return l
		}
	}
	return ""
}

// MustRead is the content of p, or the test fails.
func MustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// AccountStatus is a row of `oca status --json`.
type AccountStatus struct {
	Phase   string `json:"phase"`
	PID     int    `json:"pid"`
	Clients int    `json:"clients"`
}

// Status is account name's row of `oca status --json`.
func (w *World) Status(name string) AccountStatus {
	w.T.Helper()
	var rows []AccountStatus
	if err := json.Unmarshal([]byte(w.Oca("", "status", name, "--json")), &rows); err != nil || len(rows) != 1 {
		w.T.Fatalf("oca status --json: %v", err)
	}
	return rows[0]
}
