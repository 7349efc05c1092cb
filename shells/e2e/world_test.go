package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestMain runs the tests in a world of their own (testsys.Main), and
// removes the binaries they built.
func TestMain(m *testing.M) {
	code := testsys.Main(m)
	shelltest.RemoveBuilds()
	os.Exit(code)
}

// ocaBinary is oca, built once for the package's tests.
func ocaBinary(t *testing.T) string { return shelltest.Oca(t) }

// What follows is shells' test world, as shells' own tests have it
// (hook_test.go, server_test.go, shim_test.go): these tests run in a test
// binary of their own, so that the shells' tests stay quick.

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
		ConfigDir string `json:"config_dir"`
	}
	if err := json.Unmarshal([]byte(w.oca("", "account", "show", name, "--json")), &acc); err != nil {
		w.t.Fatal(err)
	}
	port := strconv.Itoa(acc.Port)
	return map[string]string{
		"XDG_DATA_HOME":            acc.DataHome,
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

// procs lists the pids whose command line has every one of words.
func procs(words ...string) []int {
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

// supervisors lists the pids of `oca serve NAME` run for the world (HOME
// is its home): other tests and other copies of the suite run supervisors
// of the same name.
func (w *world) supervisors(name string) []int {
	var out []int
	for _, pid := range procs("oca", "serve", name) {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil && hasHome(env, w.home) {
			out = append(out, pid)
		}
	}
	return out
}

// hasHome tells whether an environment as /proc/PID/environ holds it
// (NUL-separated) sets HOME to home.
func hasHome(environ []byte, home string) bool {
	return bytes.Contains(append([]byte{0}, environ...), []byte("\x00HOME="+home+"\x00"))
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// shimDir is oca's shim directory for the environment env (the tests leave
// XDG_STATE_HOME unset unless they set it).
func shimDir(env map[string]string) string {
	if s := env["XDG_STATE_HOME"]; s != "" {
		return filepath.Join(s, "oca", "shim")
	}
	return filepath.Join(env["HOME"], ".local", "state", "oca", "shim")
}

// lastLine is the last non-empty line of a command's output, before the
// prompt that followed it.
func lastLine(out string) string {
	out = strings.ReplaceAll(out, "⏎", "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(strings.ReplaceAll(lines[i], shelltest.Prompt, ""))
		if l != "" && !strings.HasPrefix(l, "__mark") {
			return l
		}
	}
	return ""
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// accountStatus is a row of `oca status --json`.
type accountStatus struct {
	Phase   string `json:"phase"`
	PID     int    `json:"pid"`
	Clients int    `json:"clients"`
}

func (w *world) status(name string) accountStatus {
	w.t.Helper()
	var rows []accountStatus
	if err := json.Unmarshal([]byte(w.oca("", "status", name, "--json")), &rows); err != nil || len(rows) != 1 {
		w.t.Fatalf("oca status --json: %v", err)
	}
	return rows[0]
}
