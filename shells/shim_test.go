package shells_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// oca's `opencode`: inside a bound project the first opencode on PATH is
// oca's shim, for the shell and for every process it starts; leaving takes
// exactly that entry off PATH.

func TestShimOnPathInShells(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		shim := filepath.Join(shelltest.ShimDir(base), "opencode")

		s.Run("cd work")
		if got := s.Env()["PATH"]; got != filepath.Dir(shim)+":"+base["PATH"] {
			t.Fatalf("entered: PATH = %q, want the shim first on %q", got, base["PATH"])
		}
		if got := shelltest.LastLine(s.Run("command -v opencode")); got != shim {
			t.Errorf("command -v opencode = %q, want %q", got, shim)
		}
		// A child process (a script, make, an editor) finds it too.
		if got := shelltest.LastLine(s.Run("sh -c 'command -v opencode'")); got != shim {
			t.Errorf("a child's command -v opencode = %q, want %q", got, shim)
		}
		// Switching accounts keeps it; leaving (the shell by itself)
		// restores PATH to the byte.
		s.Run("cd ../play")
		if got := s.Env()["PATH"]; got != filepath.Dir(shim)+":"+base["PATH"] {
			t.Errorf("switched: PATH = %q", got)
		}
		s.Run("cd ../plain")
		expectEnv(t, "left", s.Env(), base, nil)
		if got := shelltest.LastLine(s.Run("command -v opencode || echo none")); got == shim {
			t.Errorf("after leaving, command -v opencode is still the shim")
		}

		// The user's own change to PATH inside the project stays; only
		// the shim comes off.
		s.Run("cd ../work/sub")
		add := "export PATH=/x:$PATH:/y"
		if shell == "fish" {
			add = "set -gx PATH /x $PATH /y"
		}
		s.Run(add)
		s.Run("cd /")
		mine := map[string]string{}
		for k, v := range base {
			mine[k] = v
		}
		mine["PATH"] = "/x:" + base["PATH"] + ":/y"
		expectEnv(t, "left after PATH=/x:$PATH:/y", s.Env(), mine, nil)
	})
}

func TestShimWaysOutInShells(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		// attach = false for one account.
		accounts := w.Path(".config/oca/accounts.toml")
		data, err := os.ReadFile(accounts)
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.Replace(string(data), "[accounts.play]\n", "[accounts.play]\nattach = false\n", 1))
		if err := os.WriteFile(accounts, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		s.Run("cd play")
		expectEnv(t, "attach = false", s.Env(), base, withPath(w.Vars("play"), base["PATH"]))
		s.Run("cd ../work")
		expectEnv(t, "work", s.Env(), base, w.Vars("work"))
		s.Run("cd ../play")
		expectEnv(t, "back to attach = false", s.Env(), base, withPath(w.Vars("play"), base["PATH"]))

		// OCA_ATTACH=0: no shim anywhere.
		env := append(append([]string{}, w.Env...), "OCA_ATTACH=0")
		s2 := w.Start(shell, "", shelltest.Options{Env: env})
		base2 := s2.Env()
		s2.Run("cd work")
		expectEnv(t, "OCA_ATTACH=0", s2.Env(), base2, withPath(w.Vars("work"), base2["PATH"]))
	})
}

func withPath(vars map[string]string, path string) map[string]string {
	vars["PATH"] = path
	return vars
}

// recordingOpencode is an opencode that runs the fake server for `serve`
// (and answers --version as it does: oca asks which OpenCode it is) and,
// for anything else, records its arguments and environment in dir.
// With HOLD=1 in its environment, `attach URL` then sends one request to
// URL and keeps its connection until it is killed, as an idle TUI keeps its
// event stream; with HOLD=2 it stays without a connection; with HOLD=3 it
// stays so, ignoring SIGTERM.
func recordingOpencode(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "opencode")
	script := "#!/bin/bash\nif [ \"$1\" = serve ] || [ \"$1\" = --version ]; then exec '" + fakeOpencode(t) + "' \"$@\"; fi\n" +
		"printf '%s\\n' \"$@\" > '" + dir + "/argv'\nenv > '" + dir + "/env'\necho recorded \"$1\"\n" +
		// Whether the account's server answered on its port then.
		"if (exec 3<>/dev/tcp/127.0.0.1/$OPENCODE_PORT) 2>/dev/null; then echo up; else echo down; fi > '" + dir + "/server'\n" +
		"if [ \"$1\" = attach ] && [ -n \"$HOLD\" ]; then echo $$ >> '" + dir + "/holders'; fi\n" +
		"if [ \"$1\" = attach ] && [ \"$HOLD\" = 1 ]; then exec 3<>/dev/tcp/127.0.0.1/${2##*:}; " +
		"printf 'GET /global/event HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Basic %s\\r\\n\\r\\n' \"$(printf opencode:%s \"$OPENCODE_SERVER_PASSWORD\" | base64 -w0)\" >&3; " +
		"exec sleep 300; fi\n" +
		"if [ \"$1\" = attach ] && [ \"$HOLD\" = 2 ]; then exec sleep 300; fi\n" +
		"if [ \"$1\" = attach ] && [ \"$HOLD\" = 3 ]; then trap '' TERM; exec sleep 300; fi\n"
	testsys.WriteExecutable(t, p, []byte(script))
	return p
}

// shimWorld is a world whose accounts.toml names a recording opencode, with
// account "sh" on a port of its own and project ~/proj bound to it.
func shimWorld(t *testing.T, addArgs ...string) (w *world, rec string, port int) {
	t.Helper()
	w = bareWorld(t)
	rec = t.TempDir()
	w.Write(".config/oca/accounts.toml", "opencode = \""+recordingOpencode(t, rec)+"\"\n")
	if err := os.Chmod(w.Path(".config/oca/accounts.toml"), 0o600); err != nil {
		t.Fatal(err)
	}
	port = testsys.FreePort(t)
	w.Oca("", append([]string{"account", "add", "sh", "--port", strconv.Itoa(port)}, addArgs...)...)
	w.Mkdir("proj/sub")
	w.Oca("proj", "init", "sh")
	killAtEnd(t, w, "sh", port)
	t.Cleanup(func() {
		cmd := exec.Command(w.Bin, "server", "stop", "sh")
		cmd.Env = w.Env
		cmd.Run()
	})
	return w, rec, port
}

// shimEnv sets, in shimWorld's accounts file, lines of the environment of
// account sh's server (the fake's modes).
func shimEnv(t *testing.T, w *world, lines ...string) {
	t.Helper()
	accounts := w.Path(".config/oca/accounts.toml")
	data, err := os.ReadFile(accounts)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "\n[accounts.sh.env]\n"+strings.Join(lines, "\n")+"\n"...)
	if err := os.WriteFile(accounts, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readLines(t *testing.T, p string) []string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestShimExecsAttach: `opencode` in a bound project starts the account's
// server and becomes `opencode attach PROXY --dir DIR`, a client of oca's
// proxy in front of the server, with the proxy's password in its
// environment (never the account's) and no password on a command line;
// `opencode run` becomes `opencode run --attach PROXY --dir DIR ...`; the
// rest is the real OpenCode with the account's environment.
func TestShimExecsAttach(t *testing.T) {
	t.Parallel()
	w, rec, port := shimWorld(t)
	s := w.Start("bash", "proj", shelltest.Options{})
	pw := w.Password("sh")
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	// The client's URL is oca's proxy (hook/shim/proxy): 127.0.0.1, a port
	// of the kernel's choosing, not the server's.
	proxied := func(argv []string, at int) []string {
		if len(argv) > at && argv[at] != url && strings.HasPrefix(argv[at], "http://127.0.0.1:") {
			argv[at] = "PROXY"
		}
		return argv
	}

	out := s.Run("opencode -c; echo rc=$?")
	if !strings.Contains(out, "recorded attach") || !strings.Contains(out, "rc=0") {
		t.Fatalf("opencode printed %q", out)
	}
	argv := readLines(t, filepath.Join(rec, "argv"))
	if want := []string{"attach", "PROXY", "--dir", w.Path("proj"), "-c"}; strings.Join(proxied(argv, 1), "\n") != strings.Join(want, "\n") {
		t.Errorf("argv = %q, want %q", argv, want)
	}
	env := readLines(t, filepath.Join(rec, "env"))
	if !contains(env, "OPENCODE_ACCOUNT=sh") {
		t.Errorf("the account is not in attach's environment")
	}
	if contains(env, "OPENCODE_SERVER_PASSWORD="+pw) || !slices.ContainsFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "OPENCODE_SERVER_PASSWORD=") && len(kv) > len("OPENCODE_SERVER_PASSWORD=")
	}) {
		t.Errorf("attach's environment has the account's password, or no password: %q", env)
	}
	for _, a := range argv {
		if strings.Contains(a, pw) {
			t.Errorf("the password is on the command line: %q", argv)
		}
	}
	testsys.Eventually(t, 60*time.Second, "the account's server listening", func() bool { return shelltest.Listening(port) })

	s.Run("cd sub")
	s.Run(`opencode run "say hi" -m fake/m`)
	argv = readLines(t, filepath.Join(rec, "argv"))
	proxied(argv, 2)
	if want := []string{"run", "--attach", "PROXY", "--dir", w.Path("proj/sub"), "say hi", "-m", "fake/m"}; strings.Join(argv, "\n") != strings.Join(want, "\n") {
		t.Errorf("run argv = %q, want %q", argv, want)
	}
	// The same through oca exec, from outside the project.
	s.Run("cd ~")
	s.Run(`oca exec sh -- opencode run hello`)
	argv = readLines(t, filepath.Join(rec, "argv"))
	if want := []string{"run", "--attach", "PROXY", "--dir", w.Home, "hello"}; strings.Join(proxied(argv, 2), "\n") != strings.Join(want, "\n") {
		t.Errorf("oca exec: run argv = %q, want %q", argv, want)
	}
	// A flag attach lacks: the real OpenCode, said so in one line.
	s.Run("cd ~/proj")
	out = s.Run("opencode --model fake/m")
	if !strings.Contains(out, "oca: opencode --model: attach has no such option") || !strings.Contains(out, "server of its own") {
		t.Errorf("opencode --model printed %q", out)
	}
	if argv = readLines(t, filepath.Join(rec, "argv")); strings.Join(argv, " ") != "--model fake/m" {
		t.Errorf("standalone argv = %q", argv)
	}
	// Another subcommand: unchanged, with the account's environment.
	s.Run("opencode auth list")
	if argv = readLines(t, filepath.Join(rec, "argv")); strings.Join(argv, " ") != "auth list" {
		t.Errorf("auth argv = %q", argv)
	}
	if env := readLines(t, filepath.Join(rec, "env")); !contains(env, "OPENCODE_ACCOUNT=sh") {
		t.Errorf("auth list ran without the account's environment")
	}
	// OCA_ATTACH=0: the plain OpenCode.
	s.Run("OCA_ATTACH=0 opencode")
	if argv = readLines(t, filepath.Join(rec, "argv")); strings.Join(argv, " ") != "" {
		t.Errorf("OCA_ATTACH=0 opencode ran %q, want no arguments", argv)
	}
}

// TestShimWaitsForAStartingServer: another subcommand, which OpenCode 1.x
// runs on its own against the account's database, waits while the
// account's server starts (OpenCode migrates a new database as it starts,
// and two at once fail), then runs; a server that does not run is not
// waited for, nor started.
func TestShimWaitsForAStartingServer(t *testing.T) {
	t.Parallel()
	w, rec, port := shimWorld(t)
	shimEnv(t, w, `FAKE_MODE = "slow"`, `FAKE_DELAY = "2s"`)
	// No server started by entering: this test starts it.
	s := w.Start("bash", "proj", shelltest.Options{Pre: "export OCA_AUTOSTART=0"})
	out := s.Run("opencode auth list; echo rc=$?")
	if !strings.Contains(out, "recorded auth") || !strings.Contains(out, "rc=0") {
		t.Fatalf("opencode auth list printed %q", out)
	}
	if got := strings.TrimSpace(string(shelltest.MustRead(t, filepath.Join(rec, "server")))); got != "down" || shelltest.Listening(port) {
		t.Errorf("with no server running, auth list ran with the server %s, or started one (listening: %t)", got, shelltest.Listening(port))
	}
	out = s.RunWithin("oca server start sh >/dev/null && opencode auth list; echo rc=$?", 60*time.Second)
	if !strings.Contains(out, "recorded auth") || !strings.Contains(out, "rc=0") {
		t.Fatalf("opencode auth list printed %q", out)
	}
	if got := strings.TrimSpace(string(shelltest.MustRead(t, filepath.Join(rec, "server")))); got != "up" {
		t.Errorf("auth list ran while the server was starting (it answered: %s)", got)
	}
	// The shell's terminal showed the wait, and then not.
	if raw := s.Raw(); !strings.Contains(raw, "oca: waiting for the server of sh to start\r\x1b[Krecorded auth") {
		t.Errorf("the terminal did not show the wait, then erase it: %q", raw)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestShimServerCannotRun: the account's port is held by another process.
// `opencode` in the project says why in one line and exits non-zero within
// seconds, and starts no OpenCode of its own.
func TestShimServerCannotRun(t *testing.T) {
	t.Parallel()
	w, rec, port := shimWorld(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := w.Start("bash", "proj", shelltest.Options{})
	begin := time.Now()
	out := s.Run("opencode; echo rc=$?")
	if took := time.Since(begin); took > 15*time.Second {
		t.Errorf("took %s", took)
	}
	if !strings.Contains(out, "oca: opencode: the server of sh cannot run (phase failing): port "+strconv.Itoa(port)+" is already in use") || !strings.Contains(out, "rc=1") {
		t.Errorf("opencode printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(rec, "argv")); err == nil {
		t.Errorf("an OpenCode was started: %q", readLines(t, filepath.Join(rec, "argv")))
	}
	if n := strings.Count(out, "oca: opencode:"); n != 1 {
		t.Errorf("want one line that says why, got %d: %q", n, out)
	}
}

// TestShimSelfLoop: an `opencode` that is oca itself (a link made by hand,
// or named in accounts.toml) is an error that names its path, never a loop.
func TestShimSelfLoop(t *testing.T) {
	t.Parallel()
	w, _, _ := shimWorld(t)
	w.Mkdir("bin")
	link := w.Path("bin/opencode")
	if err := os.Symlink(w.Bin, link); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(shelltest.MustRead(t, w.Path(".config/oca/accounts.toml"))), "\n") {
		if !strings.HasPrefix(l, "opencode =") {
			kept = append(kept, l)
		}
	}
	w.Write(".config/oca/accounts.toml", strings.Join(kept, "\n"))
	env := append([]string{}, w.Env...)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + w.Path("bin") + ":" + filepath.Dir(w.Bin) + ":/usr/bin:/bin"
		}
	}
	s := w.Start("bash", "proj", shelltest.Options{Env: env})
	out := s.Run("opencode --version; echo rc=$?")
	if !strings.Contains(out, "oca: opencode: "+link+" is oca itself") || !strings.Contains(out, "rc=1") {
		t.Errorf("a link to oca on PATH: %q", out)
	}
	shim := filepath.Join(shelltest.ShimDir(map[string]string{"HOME": w.Home}), "opencode")
	w.Write(".config/oca/accounts.toml", "opencode = \""+shim+"\"\n"+string(shelltest.MustRead(t, w.Path(".config/oca/accounts.toml"))))
	out = s.Run("opencode --version; echo rc=$?")
	if !strings.Contains(out, shim+" is oca itself") || !strings.Contains(out, "rc=1") {
		t.Errorf("the shim named in accounts.toml: %q", out)
	}
}

// TestShimClientKeepsServer: an OpenCode attached by the shim keeps the
// account's server up while it lives, idle for longer than idle_timeout
// and with the shell gone from the project, with a connection open (as the
// TUI's event stream) or none (the lease the shim took for its pid); `oca
// status` counts it; the server stops once the client and the shell are
// gone.
func TestShimClientKeepsServer(t *testing.T) {
	t.Parallel()
	for _, hold := range []struct {
		name    string
		env     string
		clients int
	}{{"connected", "HOLD=1", 1}, {"no connection", "HOLD=2", 0}} {
		t.Run(hold.name, func(t *testing.T) {
			t.Parallel()
			testClientKeepsServer(t, hold.env, hold.clients)
		})
	}
}

func testClientKeepsServer(t *testing.T, hold string, clients int) {
	w, rec, _ := shimWorld(t, "--idle-timeout", "1s")
	s := w.Start("bash", "", shelltest.Options{Pre: "export " + hold})
	t.Cleanup(func() {
		// The held clients, should the test stop half-way (before the shell's
		// own cleanup, which waits for its terminal).
		data, _ := os.ReadFile(filepath.Join(rec, "holders"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	s.Run("cd proj")
	s.Run("opencode >/dev/null 2>&1 &")
	testsys.Eventually(t, 60*time.Second, "the server ready with the client", func() bool {
		st := w.Status("sh")
		return st.Phase == "ready" && st.Clients == clients
	})
	pid := w.Status("sh").PID
	s.Run("cd ~")
	// Idle timeout 1 s, supervisor poll 5 s: without the client counted,
	// the server would stop within about 6 s.
	time.Sleep(12 * time.Second)
	if st := w.Status("sh"); st.Phase != "ready" || st.PID != pid || st.Clients != clients {
		t.Fatalf("with an idle client attached: %+v\n%s", st, shelltest.MustRead(t, w.Path(".local/state/oca/accounts/sh/serve.log")))
	}
	s.Run("kill %1; wait")
	testsys.Eventually(t, 30*time.Second, "the server stopped after its last client left", func() bool {
		return w.Status("sh").Phase == "stopped"
	})
	log := string(shelltest.MustRead(t, w.Path(".local/state/oca/accounts/sh/serve.log")))
	if !strings.Contains(log, "no shell and no client for 1s") {
		t.Errorf("serve.log does not say why it stopped:\n%s", log)
	}
}

// TestShimClientDiesWithOca: the OpenCode that `opencode` runs in a project
// is a child of the oca that proxies it, and dies with it, even by SIGKILL
// (Pdeathsig): a client that outlived its proxy would reconnect to a port
// that another user could take.
func TestShimClientDiesWithOca(t *testing.T) {
	t.Parallel()
	w, rec, _ := shimWorld(t)
	s := w.Start("bash", "proj", shelltest.Options{Pre: "export HOLD=2"})
	oca, err := strconv.Atoi(shelltest.LastLine(s.Run("opencode >/dev/null 2>&1 & echo $!")))
	if err != nil {
		t.Fatal(err)
	}
	var client int
	testsys.Eventually(t, 60*time.Second, "the client started", func() bool {
		data, _ := os.ReadFile(filepath.Join(rec, "holders"))
		client, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		return client != 0
	})
	t.Cleanup(func() { syscall.Kill(client, syscall.SIGKILL) })
	if st, _ := procfs.ReadStat(client); st.PPID != oca {
		t.Fatalf("the client's parent is %d, want oca %d", st.PPID, oca)
	}
	if err := syscall.Kill(oca, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, 10*time.Second, "the client gone with its oca", func() bool { return !procfs.Alive(client, 0) })
}

// TestShimClientEndsWhenServerCannotRun: `opencode` in a project whose
// server is not running starts the server and the client at once; when the
// server then cannot run (it crashes at every start: phase failing), oca
// ends the client (SIGTERM, and SIGKILL after a grace for a client that
// ignores SIGTERM), says why in one line once the client is gone, and
// exits 1.
func TestShimClientEndsWhenServerCannotRun(t *testing.T) {
	t.Parallel()
	for _, hold := range []string{"2", "3"} {
		t.Run("HOLD="+hold, func(t *testing.T) {
			t.Parallel()
			w, rec, _ := shimWorld(t)
			shimEnv(t, w, `FAKE_MODE = "crash"`)
			s := w.Start("bash", "", shelltest.Options{Pre: "export HOLD=" + hold})
			s.Run("cd proj")
			begin := time.Now()
			out := s.RunWithin("opencode; echo rc=$?", 90*time.Second)
			want := "oca: opencode: the server of sh cannot run (phase failing): opencode crashed 5 times"
			if !strings.Contains(out, want) || !strings.Contains(out, "rc=1") {
				t.Errorf("opencode printed %q, want %q and rc=1", out, want)
			}
			data, _ := os.ReadFile(filepath.Join(rec, "holders"))
			client, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			if client == 0 {
				t.Fatalf("no client was started (holders: %q)", data)
			}
			if procfs.Alive(client, 0) {
				syscall.Kill(client, syscall.SIGKILL)
				t.Errorf("the client %d outlives opencode", client)
			}
			t.Logf("ended after %s", time.Since(begin).Round(time.Millisecond))
		})
	}
}
