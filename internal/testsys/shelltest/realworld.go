package shelltest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
)

// RealWorld is a user's home where OpenCode's config declares the fake
// provider, with one account per name (project ~/pNAME bound to it, the
// fake's key sk-oca-test-NAME in its auth.json), and an `opencode` first on
// PATH that logs every OpenCode started, then execs the real one.
type RealWorld struct {
	*World
	Prov  *fakeprovider.Provider
	Real  string // the real OpenCode
	Log   string // the wrapper's log: PID<TAB>XDG_DATA_HOME<TAB>ARGS, one line per start
	Wrap  string // the wrapper, named opencode
	Keys  map[string]string
	Ports map[string]int
	Data  map[string]string // data homes
}

// NewRealWorld makes a RealWorld with an account per name; it needs the
// real OpenCode (testsys.NeedOpencode).
func NewRealWorld(t testing.TB, opt fakeprovider.Options, names ...string) *RealWorld {
	t.Helper()
	real := testsys.NeedOpencode(t)
	root, err := os.MkdirTemp("", "oca-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	w := &RealWorld{
		World: &World{T: t, Home: filepath.Join(root, "home"), Bin: Oca(t)},
		Prov:  fakeprovider.Start(t, opt),
		Real:  real,
		Log:   filepath.Join(root, "opencode.log"),
		Wrap:  filepath.Join(root, "bin", "opencode"),
		Keys:  map[string]string{},
		Ports: map[string]int{},
		Data:  map[string]string{},
	}
	if err := os.MkdirAll(filepath.Dir(w.Wrap), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' \"$$\" \"${XDG_DATA_HOME:-}\" \"$*\" >> '" + w.Log + "'\nexec '" + real + "' \"$@\"\n"
	testsys.WriteExecutable(t, w.Wrap, []byte(script))
	w.Env = []string{
		"HOME=" + w.Home,
		"PATH=" + filepath.Dir(w.Wrap) + ":" + filepath.Dir(w.Bin) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb",
		"LANG=C.UTF-8",
		"USER=tester",
		// Nothing to fetch here but the fake: spare OpenCode the attempts.
		"OPENCODE_DISABLE_MODELS_FETCH=1",
		"OPENCODE_DISABLE_AUTOUPDATE=1",
	}
	w.Mkdir(".config")
	w.Prov.WriteConfig(t, w.Home)
	// The servers run with the accounts' env tables, not the shell's.
	var tables strings.Builder
	for _, name := range names {
		w.Ports[name] = testsys.FreePort(t)
		w.Oca("", "account", "add", name, "--port", strconv.Itoa(w.Ports[name]), "--idle-timeout", "1h")
		w.Mkdir("p" + name)
		w.Oca("p"+name, "init", name)
		w.Data[name] = w.Vars(name)["XDG_DATA_HOME"]
		w.Keys[name] = "sk-oca-test-" + name
		fakeprovider.WriteAuth(t, w.Data[name], w.Keys[name])
		fmt.Fprintf(&tables, "\n[accounts.%s.env]\nOPENCODE_DISABLE_MODELS_FETCH = \"1\"\nOPENCODE_DISABLE_AUTOUPDATE = \"1\"\n", name)
	}
	accounts := w.Path(".config/oca/accounts.toml")
	data, err := os.ReadFile(accounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(accounts, append(data, tables.String()...), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Mkdir("plain")
	t.Cleanup(w.StopAll)
	return w
}

// stopAll stops the world's servers, then kills whatever of it is left:
// only processes whose HOME is this world's.
func (w *RealWorld) StopAll() {
	for name := range w.Ports {
		cmd := exec.Command(w.Bin, "server", "stop", name)
		cmd.Env = w.Env
		cmd.Run()
	}
	for _, p := range w.Procs(nil) {
		syscall.Kill(p.Pid, syscall.SIGKILL)
	}
}

// Proc is a process of the world.
type Proc struct {
	Pid  int
	Args []string
	Env  map[string]string
}

// procs lists the world's processes (HOME is its home) that keep, if keep
// is not nil.
func (w *RealWorld) Procs(keep func(Proc) bool) []Proc {
	ents, _ := os.ReadDir("/proc")
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		envb, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !HasHome(envb, w.Home) {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(cmd) == 0 {
			continue
		}
		p := Proc{Pid: pid, Args: strings.Split(strings.TrimSuffix(string(cmd), "\x00"), "\x00"), Env: map[string]string{}}
		for _, kv := range strings.Split(string(envb), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				p.Env[k] = v
			}
		}
		if keep == nil || keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// opencodesOf are the world's OpenCode processes of account name: those
// whose XDG_DATA_HOME is its data home (not oca's own `opencode`, the shim,
// which stays the parent of the client it runs).
func (w *RealWorld) OpencodesOf(name string) []Proc {
	return w.Procs(func(p Proc) bool {
		base := filepath.Base(p.Args[0])
		return (base == "opencode" || base == "opencode.exe") && p.Env["XDG_DATA_HOME"] == w.Data[name] && !w.IsOca(p.Pid)
	})
}

// isOca tells whether process pid runs the oca binary.
func (w *RealWorld) IsOca(pid int) bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return false
	}
	bin, err := filepath.EvalSymlinks(w.Bin)
	return err == nil && exe == bin
}

// ServerPid waits until account name's server is ready (`oca server
// wait`) and is the one `opencode serve` on its port, and returns its pid.
// Ready, not just started: an OpenCode seen before it is ready may not be
// the one that serves (its supervisor kills one not healthy in time, and
// starts another), and a test that runs another OpenCode of the account
// meanwhile would race the server's first start on a fresh data home.
func (w *RealWorld) ServerPid(t testing.TB, name string) int {
	t.Helper()
	port := strconv.Itoa(w.Ports[name])
	wait := testsys.BeforeDeadline(t, testsys.OpencodeWait())
	cmd := exec.Command(w.Bin, "server", "wait", name, "--timeout", wait.String())
	cmd.Env = w.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oca server wait %s: %v\n%s\n%s", name, err, out, w.ServeLog(name))
	}
	pids := testsys.Await(t, wait, "account "+name+": one opencode server on port "+port, func() ([]int, bool) {
		pids := Procs("opencode", "serve", "--port", port)
		return pids, len(pids) == 1
	})
	return pids[0]
}

// ServeLog is account name's supervisor log (serve.log), for a failing
// test's report: what its supervisor did and why.
func (w *RealWorld) ServeLog(name string) string {
	data, err := os.ReadFile(w.Path(".local/state/oca/accounts/" + name + "/serve.log"))
	if err != nil {
		return fmt.Sprintf("(serve.log of %s: %v)", name, err)
	}
	return "serve.log of " + name + ":\n" + string(data)
}

// started is the wrapper's log: every OpenCode started in the world.
type OpencodeStart struct {
	Pid      int
	DataHome string
	Args     string
}

func (w *RealWorld) Started(t testing.TB) []OpencodeStart {
	t.Helper()
	data, err := os.ReadFile(w.Log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []OpencodeStart
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("wrapper log line %q", l)
		}
		pid, _ := strconv.Atoi(f[0])
		out = append(out, OpencodeStart{pid, f[1], f[2]})
	}
	return out
}

func ChatsWith(reqs []fakeprovider.Request, prompt string) []fakeprovider.Request {
	var out []fakeprovider.Request
	for _, r := range reqs {
		if r.Path == "/v1/chat/completions" && r.Prompt == prompt {
			out = append(out, r)
		}
	}
	return out
}

// answered waits until the fake has answered prompt (at least one chat
// completion with it ended) and returns the requests that carried it.
func (w *RealWorld) Answered(t testing.TB, prompt string) []fakeprovider.Request {
	t.Helper()
	reqs := w.Prov.Wait(t, testsys.OpencodeWait(), "an answered request with prompt "+strconv.Quote(prompt), func(rs []fakeprovider.Request) bool {
		for _, r := range ChatsWith(rs, prompt) {
			if !r.End.IsZero() {
				return true
			}
		}
		return false
	})
	return ChatsWith(reqs, prompt)
}

// fromServer checks that every request is from pid with key.
func FromServer(t testing.TB, what string, reqs []fakeprovider.Request, pid int, key string) {
	t.Helper()
	for _, r := range reqs {
		if !r.Peer.Has(pid) || len(r.Peer.Pids) != 1 || r.Key() != key {
			t.Errorf("%s: a request not from the server %d with key %q:\n%s", what, pid, key, fakeprovider.Describe([]fakeprovider.Request{r}))
		}
	}
}
