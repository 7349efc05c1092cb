package tui

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// End to end, with the real OpenCode answering prompts from a local fake
// provider (internal/testsys/fakeprovider): in a bound project `opencode` is a
// client of the account's server, and the fake sees which process sent each
// request and with which key.

// TestShimRealOpencode: two accounts, each with its real server shared by
// the subtests; what a user types in bash in their projects.
func TestShimRealOpencode(t *testing.T) {
	t.Parallel()
	w := shelltest.NewRealWorld(t, fakeprovider.Options{}, "a", "b", "c")
	reply := w.Prov.Reply()
	// Three lanes side by side, each in a shell of its own: one after
	// another they took up to 553 s of go test's 600 with a second copy of
	// the suite loading the machine. The TUI's, which counts
	// A's OpenCode processes, runs after them.
	t.Run("lanes", func(t *testing.T) {
		t.Run("runs through the servers, PATH, a server that cannot run", func(t *testing.T) {
			t.Parallel()
			s := w.Start("bash", "", shelltest.Options{})
			base := s.Env()
			shim := filepath.Join(shelltest.ShimDir(base), "opencode")

			for _, name := range []string{"a", "b"} {
				t.Run("run in "+name, func(t *testing.T) {
					s.Run("cd ~/p" + name)
					prompt := "ping-run-" + name
					out := s.RunWithin(`opencode run "`+prompt+`"; echo rc=$?`, testsys.OpencodeWait())
					if !strings.Contains(out, "rc=0") {
						t.Fatalf("opencode run in project %s failed: %q", name, out)
					}
					if !strings.Contains(out, reply) {
						// OpenCode 1.18.33's `run --attach`, left to itself,
						// prints no reply (upstream: anomalyco/opencode#27023,
						// #38661): oca's run proxy is what makes it print.
						t.Errorf("opencode run in project %s did not print the reply %q: %q", name, reply, out)
					}
					pid := w.ServerPid(t, name)
					reqs := w.Answered(t, prompt)
					shelltest.FromServer(t, "opencode run in p"+name, reqs, pid, w.Keys[name])
					// The server is the supervisor's, and `opencode run` went
					// through it: run --attach URL --dir DIR, where URL is oca's
					// run proxy in front of the account's server (the requests
					// above came from the server).
					want := regexp.MustCompile(`^run --attach http://127\.0\.0\.1:([0-9]+) --dir ` + regexp.QuoteMeta(w.Path("p"+name)) + " " + regexp.QuoteMeta(prompt) + "$")
					var found bool
					for _, st := range w.Started(t) {
						m := want.FindStringSubmatch(st.Args)
						found = found || m != nil && m[1] != strconv.Itoa(w.Ports[name]) && st.DataHome == w.Data[name]
					}
					if !found {
						t.Errorf("no OpenCode started as %q; started:\n%v", want, w.Started(t))
					}
				})
			}

			t.Run("leaving restores PATH", func(t *testing.T) {
				s.Run("cd ~/pa")
				if got := s.Env()["PATH"]; got != filepath.Dir(shim)+":"+base["PATH"] {
					t.Errorf("in pa: PATH = %q, want the shim first on %q", got, base["PATH"])
				}
				if got := shelltest.LastLine(s.Run("command -v opencode")); got != shim {
					t.Errorf("in pa: command -v opencode = %q, want %q", got, shim)
				}
				s.Run("cd ~/plain")
				if got := s.Env()["PATH"]; got != base["PATH"] {
					t.Errorf("left: PATH = %q, want %q", got, base["PATH"])
				}
				if got := shelltest.LastLine(s.Run("command -v opencode")); got != w.Wrap {
					t.Errorf("left: command -v opencode = %q, want %q", got, w.Wrap)
				}
				s.Run("cd ~/pb")
				s.Run("export PATH=/x:$PATH:/y")
				s.Run("cd ~/plain")
				if got, want := s.Env()["PATH"], "/x:"+base["PATH"]+":/y"; got != want {
					t.Errorf("left after PATH=/x:$PATH:/y: PATH = %q, want %q", got, want)
				}
				if got := shelltest.LastLine(s.Run("command -v opencode")); got != w.Wrap {
					t.Errorf("left after changing PATH: command -v opencode = %q, want %q", got, w.Wrap)
				}
				s.Run("export PATH=" + base["PATH"])
			})

			t.Run("a server that cannot run", func(t *testing.T) {
				// Another process holds c's port.
				l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(w.Ports["c"]))
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				s.Run("cd ~/pc")
				begin := time.Now()
				out := s.RunWithin("opencode; echo rc=$?", testsys.OpencodeWait())
				took := time.Since(begin)
				if took > 15*time.Second {
					t.Errorf("opencode took %s to give up", took.Round(time.Millisecond))
				}
				want := "oca: opencode: the server of c cannot run (phase failing): port " + strconv.Itoa(w.Ports["c"]) + " is already in use"
				if !strings.Contains(out, want) || !strings.Contains(out, "rc=1") {
					t.Errorf("opencode printed %q, want %q and rc=1", out, want)
				}
				for _, st := range w.Started(t) {
					if st.DataHome == w.Data["c"] && !strings.HasPrefix(st.Args, "serve ") {
						t.Errorf("an OpenCode of c was started: %q", st.Args)
					}
				}
				if ps := w.OpencodesOf("c"); len(ps) != 0 {
					t.Errorf("OpenCode processes of c: %v", ps)
				}
				t.Logf("gave up after %s", took.Round(time.Millisecond))
				s.Run("cd ~")
			})
		})

		t.Run("OCA_ATTACH=0 runs standalone", func(t *testing.T) {
			t.Parallel()
			s := w.Start("bash", "", shelltest.Options{})
			s.Run("cd ~/pa")
			pid := w.ServerPid(t, "a")
			prompt := "ping-standalone"
			out := s.RunWithin(`OCA_ATTACH=0 opencode run "`+prompt+`"; echo rc=$?`, testsys.OpencodeWait())
			if !strings.Contains(out, reply) || !strings.Contains(out, "rc=0") {
				t.Fatalf("OCA_ATTACH=0 opencode run printed %q", out)
			}
			for _, r := range w.Answered(t, prompt) {
				if r.Peer.Has(pid) || len(r.Peer.Pids) != 1 || r.Key() != w.Keys["a"] {
					t.Errorf("a request from the server, or without A's key:\n%s", fakeprovider.Describe([]fakeprovider.Request{r}))
				}
				if got := strings.Join(r.Peer.Cmdlines[0], " "); got != w.Real+" run "+prompt {
					t.Errorf("the standalone request came from %q, want %q", got, w.Real+" run "+prompt)
				}
			}
			if pids := shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(w.Ports["a"])); len(pids) != 1 || pids[0] != pid {
				t.Errorf("A's server changed: %v, was %d\n%s", pids, pid, w.ServeLog("a"))
			}
		})

		t.Run("other subcommands are the real OpenCode with the account's environment", func(t *testing.T) {
			t.Parallel()
			s := w.Start("bash", "", shelltest.Options{})
			dir := t.TempDir()
			// auth list names the account's own auth.json; the rest is the
			// same for both accounts, so b runs it alone. Each is compared
			// with the real OpenCode run directly with the account's data
			// home, but models (its check below says the account's config
			// reached it): every start of the real OpenCode costs seconds,
			// and tens of them on a loaded machine.
			cmds := map[string][]string{"a": {"--version", "auth list", "models"}, "b": {"auth list"}}
			for _, name := range []string{"a", "b"} {
				s.Run("cd ~/p" + name)
				for i, args := range cmds[name] {
					file := filepath.Join(dir, fmt.Sprintf("%s.%d", name, i))
					out := s.RunWithin("opencode "+args+" > "+file+" 2>&1; echo rc=$?", testsys.OpencodeWait())
					if !strings.Contains(out, "rc=0") {
						t.Errorf("opencode %s in p%s: %q", args, name, out)
					}
					got := string(shelltest.MustRead(t, file))
					if args == "models" {
						if !strings.Contains(got, "fake/m") {
							t.Errorf("opencode models in p%s lacks fake/m: %q", name, got)
						}
						continue
					}
					cmd := exec.Command(w.Real, strings.Fields(args)...)
					cmd.Dir = w.Path("p" + name)
					cmd.Env = append(append([]string{}, w.Env...), "XDG_DATA_HOME="+w.Data[name], "PWD="+cmd.Dir)
					want, err := cmd.CombinedOutput()
					if err != nil {
						t.Fatalf("the real opencode %s: %v\n%s", args, err, want)
					}
					if got != string(want) {
						t.Errorf("opencode %s in p%s printed\n%s\nthe real one with the account's data home\n%s", args, name, got, want)
					}
					if args == "auth list" {
						if !strings.Contains(got, "~/"+strings.TrimPrefix(w.Data[name], w.Home+"/")+"/opencode/auth.json") || !strings.Contains(got, "fake") {
							t.Errorf("opencode auth list in p%s does not show the account's auth.json and the fake: %q", name, got)
						}
					}
				}
			}
			// Each ran as itself, with the account's data home: none went
			// through a server.
			for _, name := range []string{"a", "b"} {
				for _, args := range cmds[name] {
					found := false
					for _, st := range w.Started(t) {
						found = found || st.Args == args && st.DataHome == w.Data[name]
					}
					if !found {
						t.Errorf("no OpenCode started as %q with %s's data home; started:\n%v", args, name, w.Started(t))
					}
				}
			}
		})
	})

	t.Run("the TUI attaches to the account's server", func(t *testing.T) {
		m := newTmux(t, w)
		pid := w.ServerPid(t, "a")
		tui := m.tui(t, "one", "~/pa", "opencode", "ping-tui-1")
		// The TUI is a client of oca's proxy (127.0.0.1, a port of the
		// kernel's choosing), run by the oca the shell started.
		proxyURL := attachedTo(t, tui, w.Path("pa"))
		if proxyURL == "http://127.0.0.1:"+strconv.Itoa(w.Ports["a"]) {
			t.Errorf("the TUI attaches to the server's port itself: %q", tui.Args)
		}
		shelltest.FromServer(t, "the TUI's prompt", w.Answered(t, "ping-tui-1"), pid, w.Keys["a"])
		// One server for A and the client: no other OpenCode of A.
		var got []string
		for _, p := range w.OpencodesOf("a") {
			got = append(got, fmt.Sprint(p.Pid, " ", strings.Join(p.Args[1:], " ")))
		}
		slices.Sort(got)
		want := []string{
			fmt.Sprint(pid, " serve --hostname 127.0.0.1 --port ", w.Ports["a"]),
			fmt.Sprint(tui.Pid, " attach ", proxyURL, " --dir ", w.Path("pa")),
		}
		slices.Sort(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("A's OpenCode processes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		ps, err := exec.Command("ps", "-e", "-ww", "-o", "pid=,args=").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b", "c"} {
			if pw := w.Password(name); strings.Contains(string(ps), pw) {
				t.Errorf("ps shows %s's password", name)
			}
		}
		// The TUI holds the proxy's password, not the account's.
		if got := tui.Env["OPENCODE_SERVER_PASSWORD"]; got == "" || got == w.Password("a") {
			t.Errorf("the TUI's OPENCODE_SERVER_PASSWORD is empty or the account's")
		}
		oca := ppid(tui.Pid)
		t.Logf("one terminal through the server: client %s, oca beside it %s, server %s, supervisor %s",
			mb(rss(tui.Pid)), mb(rss(oca)), mb(rss(pid)), mb(supervisorRSS(w, "a")))

		t.Run("two TUIs, one server", func(t *testing.T) {
			tuis := []proc{tui, m.tui(t, "tui2", "~/pa", "opencode", "ping-tui-2")}
			shelltest.FromServer(t, "TUI 2", w.Answered(t, "ping-tui-2"), pid, w.Keys["a"])
			var clients []int
			for _, p := range w.OpencodesOf("a") {
				if p.Pid == pid {
					continue
				}
				if len(p.Args) < 2 || p.Args[1] != "attach" {
					t.Errorf("an OpenCode of A that is not a client: %d %q", p.Pid, p.Args)
				}
				clients = append(clients, p.Pid)
			}
			if len(clients) != 2 {
				t.Errorf("%d clients of A, want 2", len(clients))
			}
			// oca status counts each TUI once: the oca beside it holds
			// its connections to the server.
			var st shelltest.AccountStatus
			if !testsys.Poll(testsys.OpencodeWait(), func() bool { st = w.Status("a"); return st.Clients == 2 }) {
				t.Errorf("oca status counts %d clients of A, want 2", st.Clients)
			}
			if pids := shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(w.Ports["a"])); len(pids) != 1 || pids[0] != pid {
				t.Errorf("A's servers: %v, want only %d", pids, pid)
			}
			sum := rss(pid) + supervisorRSS(w, "a")
			for _, p := range tuis {
				sum += rss(p.Pid) + rss(ppid(p.Pid))
			}
			t.Logf("two terminals through the server: %s in all", mb(sum))
		})
	})

	t.Run("no request carries another account's key", func(t *testing.T) {
		servers := map[int]string{}
		for _, name := range []string{"a", "b"} {
			servers[w.ServerPid(t, name)] = name
		}
		chats := w.Prov.Chats()
		if len(chats) == 0 {
			t.Fatal("the fake saw no request")
		}
		for _, r := range chats {
			var owner string
			if len(r.Peer.Pids) == 1 {
				owner = servers[r.Peer.Pids[0]]
			}
			switch {
			case r.Prompt == "ping-standalone" && r.Key() == w.Keys["a"]:
			case owner == "":
				t.Errorf("a request from neither server:\n%s", fakeprovider.Describe([]fakeprovider.Request{r}))
			case r.Key() != w.Keys[owner]:
				t.Errorf("%s's server sent key %q:\n%s", owner, r.Key(), fakeprovider.Describe([]fakeprovider.Request{r}))
			}
		}
	})
}

// supervisorRSS is the RSS of account name's supervisor (`oca serve`).
func supervisorRSS(w *realWorld, name string) int64 {
	var sum int64
	for _, p := range w.Procs(func(p proc) bool {
		return len(p.Args) == 3 && filepath.Base(p.Args[0]) == "oca" && p.Args[1] == "serve" && p.Args[2] == name
	}) {
		sum += rss(p.Pid)
	}
	return sum
}

func rss(pid int) int64 {
	n, _ := procfs.RSS(pid)
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }

// tmuxServer is a tmux server of the test's own (its own socket), whose
// windows run an interactive bash with oca's hook.
type tmuxServer struct {
	w    *realWorld
	sock string
	rc   string
	env  []string
}

func newTmux(t testing.TB, w *realWorld) *tmuxServer {
	t.Helper()
	shelltest.Require(t, "tmux")
	shelltest.Require(t, "bash")
	dir, err := os.MkdirTemp("", "oca-tmux-") // short: a socket path has a limit
	if err != nil {
		t.Fatal(err)
	}
	m := &tmuxServer{w: w, sock: filepath.Join(dir, "s"), rc: filepath.Join(dir, "bashrc")}
	rc := "PS1='" + shelltest.Prompt + "'\n" + shelltest.HookLine("bash", w.Bin) + "\n"
	if err := os.WriteFile(m.rc, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range w.Env {
		if !strings.HasPrefix(kv, "TERM=") {
			m.env = append(m.env, kv)
		}
	}
	m.env = append(m.env, "TERM=xterm-256color")
	m.run(t, "-f", "/dev/null", "new-session", "-d", "-s", "oca", "-x", "200", "-y", "50", "-n", "main", "-c", w.Home)
	t.Cleanup(func() {
		exec.Command("tmux", "-S", m.sock, "kill-server").Run()
		os.RemoveAll(dir)
	})
	return m
}

func (m *tmuxServer) run(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", m.sock}, args...)...)
	cmd.Env = m.env
	cmd.Dir = m.w.Home
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// window opens a window running bash with the hook in dir (relative to
// HOME, ~/ allowed), waits for its prompt, and returns its target.
func (m *tmuxServer) window(t testing.TB, name, dir string) string {
	t.Helper()
	dir = m.w.Path(strings.TrimPrefix(dir, "~/"))
	m.run(t, "new-window", "-d", "-t", "oca", "-n", name, "-c", dir, "bash --noprofile --rcfile "+m.rc+" -i")
	target := "oca:" + name
	m.wait(t, target, shelltest.Wait, "a prompt", func(s string) bool { return strings.Contains(s, shelltest.Prompt) })
	return target
}

func (m *tmuxServer) capture(t testing.TB, target string) string {
	t.Helper()
	return m.run(t, "capture-pane", "-p", "-t", target)
}

func (m *tmuxServer) wait(t testing.TB, target string, within time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	return testsys.Await(t, within, "tmux "+target+": "+what+" on the screen", func() (string, bool) {
		s := m.capture(t, target)
		return s, ok(s)
	})
}

func (m *tmuxServer) send(t testing.TB, target string, literal string) {
	t.Helper()
	m.run(t, "send-keys", "-t", target, "-l", literal)
}

// tui opens a window in dir, types command (an OpenCode TUI), waits for it
// to show, sends prompt and waits until the screen shows the fake's reply
// as a message. It returns the TUI's process (the shell's child).
func (m *tmuxServer) tui(t testing.TB, name, dir, command, prompt string) proc {
	t.Helper()
	target := m.window(t, name, dir)
	m.send(t, target, command)
	m.run(t, "send-keys", "-t", target, "Enter")
	m.wait(t, target, testsys.OpencodeWait(), "OpenCode's TUI", func(s string) bool { return strings.Contains(s, "ctrl+p") })
	m.prompt(t, target, prompt)
	reply := m.w.Prov.Reply()
	m.wait(t, target, testsys.OpencodeWait(), "the reply as a message", func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, " "), reply) { // the title shows it too, after a border
				return true
			}
		}
		return false
	})
	return m.client(t, target)
}

// prompt types prompt into the TUI of window target, and Enter once the
// screen shows it.
func (m *tmuxServer) prompt(t testing.TB, target, prompt string) {
	t.Helper()
	m.send(t, target, prompt)
	m.wait(t, target, testsys.OpencodeWait(), "the prompt typed", func(s string) bool { return strings.Contains(s, prompt) })
	m.run(t, "send-keys", "-t", target, "Enter")
}

// client is the OpenCode the shell of window target runs: the shell's
// child is oca (the shim, or oca attach), and oca's only child other than
// the supervisor it may have started (`oca serve`, detached) is the TUI
// (or, with OCA_ATTACH=0, the shell's child is the TUI itself).
func (m *tmuxServer) client(t testing.TB, target string) proc {
	t.Helper()
	shell, err := strconv.Atoi(strings.TrimSpace(m.run(t, "display-message", "-p", "-t", target, "#{pane_pid}")))
	if err != nil {
		t.Fatal(err)
	}
	kids := m.w.Procs(func(p proc) bool { return ppid(p.Pid) == shell })
	if len(kids) != 1 {
		t.Fatalf("the shell of window %s has %d children, want one: %v", target, len(kids), kids)
	}
	if !m.w.IsOca(kids[0].Pid) {
		return kids[0]
	}
	oca := kids[0].Pid
	if kids = m.w.Procs(func(p proc) bool { return ppid(p.Pid) == oca && !m.w.IsOca(p.Pid) }); len(kids) != 1 {
		t.Fatalf("the oca of window %s has %d children, want the TUI: %v", target, len(kids), kids)
	}
	return kids[0]
}

// attachedTo checks that tui is `opencode attach URL --dir dir`, with URL on
// 127.0.0.1, and returns URL.
func attachedTo(t testing.TB, tui proc, dir string) string {
	t.Helper()
	if len(tui.Args) != 5 || tui.Args[1] != "attach" || !strings.HasPrefix(tui.Args[2], "http://127.0.0.1:") || tui.Args[3] != "--dir" || tui.Args[4] != dir {
		t.Fatalf("the TUI is %q, want attach http://127.0.0.1:PORT --dir %s", tui.Args, dir)
	}
	return tui.Args[2]
}

func ppid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return -1
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// BenchmarkShimTUIMemory measures the memory (RSS) of N terminals on one
// account, N = 1 and 3, each an OpenCode TUI that has answered one prompt:
// through the account's server (N `opencode attach` clients and the N ocas
// that proxy them, plus the server and its supervisor) against N plain TUIs (OCA_ATTACH=0, each with
// the server it embeds). Run by hand:
//
//	go test -run '^$' -bench ShimTUIMemory -benchtime 1x ./shells/e2e/
func BenchmarkShimTUIMemory(b *testing.B) {
	w := shelltest.NewRealWorld(b, fakeprovider.Options{}, "a")
	m := newTmux(b, w)
	sum := func(ps []proc) int64 {
		var n int64
		for _, p := range ps {
			n += rss(p.Pid)
		}
		return n
	}
	closeAll := func(names []string, ps []proc) {
		for _, n := range names {
			m.run(b, "kill-window", "-t", "oca:"+n)
		}
		for _, p := range ps {
			testsys.Eventually(b, testsys.OpencodeWait(), fmt.Sprintf("TUI %d gone after its window closed", p.Pid), func() bool { return syscall.Kill(p.Pid, 0) != nil })
		}
	}
	for _, mode := range []struct{ name, command string }{{"attached", "opencode"}, {"plain", "OCA_ATTACH=0 opencode"}} {
		var names []string
		var tuis []proc
		for _, n := range []int{1, 3} {
			for len(tuis) < n {
				name := fmt.Sprint(mode.name, len(tuis)+1)
				tuis = append(tuis, m.tui(b, name, "~/pa", mode.command, "ping-"+name))
				names = append(names, name)
			}
			total := sum(tuis)
			detail := fmt.Sprintf("%d TUIs %s", n, mb(total))
			if mode.name == "attached" {
				var ocas int64
				for _, p := range tuis {
					ocas += rss(ppid(p.Pid))
				}
				srv, sup := rss(w.ServerPid(b, "a")), supervisorRSS(w, "a")
				total += ocas + srv + sup
				detail += fmt.Sprintf(" + the ocas beside them %s + server %s + supervisor %s", mb(ocas), mb(srv), mb(sup))
			}
			b.Logf("%s, %d terminals: %s = %s", mode.name, n, detail, mb(total))
			b.ReportMetric(float64(total)/(1<<20), fmt.Sprintf("%s-%d-MB", mode.name, n))
		}
		closeAll(names, tuis)
	}
}

// BenchmarkShimColdStart measures a cold `opencode` in a project (the
// account's server stopped), from Enter until the TUI shows ("ctrl+p" on the
// screen), against the plain TUI (`OCA_ATTACH=0 opencode`, which embeds a
// server of its own), alternated in one run (the order swapped each round),
// so that the machine's load weighs on both alike. oca's `opencode` starts
// the server and the TUI at once; the TUI's first requests wait in oca's
// proxy until the server is ready. Run by hand (OCA_BENCH_ROUNDS rounds, 5
// by default):
//
//	go test -run '^$' -bench ShimColdStart -benchtime 1x ./shells/
//
// OCA_BENCH_BEFORE=/path/opencode, a link named opencode to another build
// of oca (an earlier version), adds that oca's `opencode` to the
// alternation, typed by its path.
func BenchmarkShimColdStart(b *testing.B) {
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("OCA_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	w := shelltest.NewRealWorld(b, fakeprovider.Options{}, "a")
	m := newTmux(b, w)
	// Entering the project starts nothing: the cold start is opencode's.
	m.run(b, "set-environment", "-g", "OCA_AUTOSTART", "0")
	modes := []struct{ name, command string }{{"oca", "opencode"}, {"plain", "OCA_ATTACH=0 opencode"}}
	if before := os.Getenv("OCA_BENCH_BEFORE"); before != "" {
		modes = append(modes, struct{ name, command string }{"before", before})
	}
	took := map[string][]time.Duration{}
	var ocaRSS []int64
	for round := range rounds {
		for i := range modes {
			mode := modes[(i+round)%len(modes)]
			w.Oca("", "server", "stop", "a")
			name := fmt.Sprint(mode.name, round)
			target := m.window(b, name, "~/pa")
			m.send(b, target, mode.command)
			begin := time.Now()
			m.run(b, "send-keys", "-t", target, "Enter")
			for !strings.Contains(m.capture(b, target), "ctrl+p") {
				if time.Since(begin) > testsys.OpencodeWait() {
					b.Fatalf("%s: no TUI within %s:\n%s", mode.command, testsys.OpencodeWait(), m.capture(b, target))
				}
				time.Sleep(50 * time.Millisecond)
			}
			d := time.Since(begin)
			took[mode.name] = append(took[mode.name], d)
			tui := m.client(b, target)
			if mode.name == "oca" {
				ocaRSS = append(ocaRSS, rss(ppid(tui.Pid)))
			}
			b.Logf("round %d, %s: %.2f s", round, mode.command, d.Seconds())
			m.run(b, "kill-window", "-t", target)
			deadline := time.Now().Add(testsys.OpencodeWait())
			for procfs.Alive(tui.Pid, 0) {
				if time.Now().After(deadline) {
					b.Fatalf("TUI %d still runs after its window closed", tui.Pid)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	med := func(ds []time.Duration) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2].Seconds()
	}
	mean := func(ds []time.Duration) float64 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return sum.Seconds() / float64(len(ds))
	}
	slices.Sort(ocaRSS)
	b.Logf("cold opencode: median %.2f s, mean %.2f s; plain TUI: median %.2f s, mean %.2f s; ratio of medians %.2f, of means %.2f; the oca beside the TUI: %s (median RSS)",
		med(took["oca"]), mean(took["oca"]), med(took["plain"]), mean(took["plain"]),
		med(took["oca"])/med(took["plain"]), mean(took["oca"])/mean(took["plain"]), mb(ocaRSS[len(ocaRSS)/2]))
	b.ReportMetric(med(took["oca"]), "oca-cold-s")
	b.ReportMetric(med(took["plain"]), "plain-s")
	b.ReportMetric(med(took["oca"])/med(took["plain"]), "x-plain")
	if len(took["before"]) > 0 {
		b.Logf("the oca before: median %.2f s, mean %.2f s; ratio of medians to the plain TUI %.2f, of means %.2f",
			med(took["before"]), mean(took["before"]), med(took["before"])/med(took["plain"]), mean(took["before"])/mean(took["plain"]))
		b.ReportMetric(med(took["before"]), "before-cold-s")
	}
}
