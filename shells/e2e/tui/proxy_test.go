package tui

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
	"github.com/oca-sh/oca/internal/testsys/squatter"
)

// TestShimTUIThroughProxy: the real OpenCode's TUI, started by `opencode`
// in a project, for the whole of its life. It talks to the proxy of the oca
// that started it, never to the server's port: it goes on working across a
// kill -9 of its server (the supervisor starts a new one); it dies with
// its oca; and when another local user takes the port after the server
// stopped, as the TUI reconnects (after 1, 2 and 4 s, then every 30 s,
// with the password), that user is never sent the password: oca ends the
// TUI and says why.
func TestShimTUIThroughProxy(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	squatBin := squatter.Build(t)
	w := shelltest.NewRealWorld(t, fakeprovider.Options{}, "a")
	m := newTmux(t, w)
	port := w.Ports["a"]
	tui := m.tui(t, "one", "~/pa", "opencode", "ping-first")
	oca := ppid(tui.Pid)
	if !w.IsOca(oca) {
		t.Errorf("the TUI's parent %d is not oca: %q", oca, tui.Args)
	}
	if attachedTo(t, tui, w.Path("pa")) == "http://127.0.0.1:"+strconv.Itoa(port) {
		t.Errorf("the TUI attaches to the server's port itself: %q", tui.Args)
	}

	t.Run("it goes on across a restart of its server", func(t *testing.T) {
		old := w.ServerPid(t, "a")
		shelltest.FromServer(t, "the first prompt", w.Answered(t, "ping-first"), old, w.Keys["a"])
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var pid int
		if !testsys.Poll(testsys.OpencodeWait(), func() bool {
			pids := shelltest.Procs("opencode", "serve", "--port", strconv.Itoa(port))
			if len(pids) != 1 || pids[0] == old {
				return false
			}
			pid = pids[0]
			return w.Status("a").Phase == "ready"
		}) {
			t.Fatalf("no new server of a after kill -9 of %d", old)
		}
		m.prompt(t, "oca:one", "ping-after-restart")
		shelltest.FromServer(t, "the prompt after the restart", w.Answered(t, "ping-after-restart"), pid, w.Keys["a"])
		if !procfs.Alive(tui.Pid, 0) || ppid(tui.Pid) != oca {
			t.Errorf("the TUI %d (oca %d) did not live through the restart", tui.Pid, oca)
		}
	})

	t.Run("it dies with its oca", func(t *testing.T) {
		two := m.tui(t, "two", "~/pa", "opencode", "ping-two")
		parent := ppid(two.Pid)
		if !w.IsOca(parent) {
			t.Fatalf("the TUI's parent %d is not oca: %q", parent, two.Args)
		}
		if err := syscall.Kill(parent, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if !testsys.Poll(30*time.Second, func() bool { return !procfs.Alive(two.Pid, 0) }) {
			t.Errorf("the TUI %d outlives its oca %d (killed)", two.Pid, parent)
		}
	})

	t.Run("another user on the port after the server stopped gets no password", func(t *testing.T) {
		sq := squatter.Await(t, squatBin, u, port)
		w.Oca("", "server", "stop", "a")
		if !testsys.Poll(testsys.OpencodeWait(), sq.Bound) {
			t.Fatalf("the squatter never bound port %d", port)
		}
		// Until the squatter was sent the password, or the TUI and its oca
		// are gone (then nothing of the account's can send it anything).
		if !testsys.Poll(testsys.OpencodeWait(), func() bool {
			return sentPassword(sq) || !procfs.Alive(tui.Pid, 0) && !procfs.Alive(oca, 0)
		}) {
			t.Errorf("the TUI %d (oca %d) still runs with another user's server on the port", tui.Pid, oca)
		}
		sq.Check(t, true)
		if sentPassword(sq) {
			t.FailNow()
		}
		want := "oca: opencode: the server of a cannot run: port " + strconv.Itoa(port) + " is already in use by pid " + strconv.Itoa(sq.Pid())
		var screen string
		if !testsys.Poll(testsys.OpencodeWait(), func() bool {
			screen = m.run(t, "capture-pane", "-p", "-J", "-t", "oca:one") // -J: a long line whole
			return strings.Contains(screen, want)
		}) {
			t.Fatalf("no %q on the screen:\n%s", want, screen)
		}
		if !strings.Contains(screen, "of user "+u.Name) {
			t.Errorf("the reason does not name user %s:\n%s", u.Name, screen)
		}
		m.send(t, "oca:one", "echo rc=$?")
		m.run(t, "send-keys", "-t", "oca:one", "Enter")
		m.wait(t, "oca:one", testsys.OpencodeWait(), "opencode's status", func(s string) bool { return strings.Contains(s, "rc=1") })
	})
}

// sentPassword tells whether the squatter was sent an Authorization header.
func sentPassword(sq *squatter.Squatter) bool {
	for _, l := range sq.Lines() {
		if strings.HasPrefix(l, "auth") {
			return true
		}
	}
	return false
}
