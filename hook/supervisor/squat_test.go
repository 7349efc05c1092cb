package supervisor

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/squatter"
)

// wantSquatterNamed checks that err is a PortInUseError naming the
// squatter's pid and user.
func wantSquatterNamed(t *testing.T, err error, s *squatter.Squatter, u *testsys.User, port int) {
	t.Helper()
	var pie *opencode.PortInUseError
	if !errors.As(err, &pie) {
		t.Fatalf("error %v, want a PortInUseError", err)
	}
	if pie.Port != port || pie.PID != s.Pid() || pie.User != u.Name || !strings.Contains(pie.Cmd, "squatter") {
		t.Errorf("opencode.PortInUseError %+v, want port %d, pid %d, user %s, the squatter's command", pie, port, s.Pid(), u.Name)
	}
	for _, want := range []string{"port " + itoa(port), "pid " + itoa(s.Pid()), "squatter", "user " + u.Name} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestSquatterGetsNoPassword: another local user listens on an account's
// port and answers as a healthy OpenCode would: before the supervisor
// starts, while its OpenCode starts, and in the moment after OpenCode was
// killed, before the restart binds. The supervisor's readiness probe,
// WaitReady (`oca server wait`), Health and the credential reload never
// send it the password; the supervisor gives up at once into phase failing
// with the port-in-use error naming the squatter's pid, command and user.
func TestSquatterGetsNoPassword(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)

	t.Run("before-start", func(t *testing.T) {
		t.Parallel()
		a := newAccount(t, "squat-first")
		sq := squatter.Start(t, bins.squatter, u, a.cfg.Port)
		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := WaitReady(ctx, a.cfg)
		if time.Since(begin) > 2*time.Second {
			t.Errorf("WaitReady took %s to refuse the squatter", time.Since(begin))
		}
		wantSquatterNamed(t, err, sq, u, a.cfg.Port)
		if ok, err := opencode.Health(context.Background(), a.cfg.Port, a.cfg.Password); ok {
			t.Errorf("Health of the squatter's port = true")
		} else {
			wantSquatterNamed(t, err, sq, u, a.cfg.Port)
		}
		if err := (opencode.Client{Port: a.cfg.Port, Password: a.cfg.Password}).Dispose(context.Background()); err == nil {
			t.Errorf("dispose on the squatter's port succeeded")
		}
		s := startServe(t, a.withEnv(map[string]string{"FAKE_MODE": "ok"}))
		wantSquatterNamed(t, s.wait(t, 20*time.Second), sq, u, a.cfg.Port)
		if st, _ := ReadStatus(a.cfg.StateDir); st.Phase != PhaseFailing || !strings.Contains(st.LastError, "user "+u.Name) {
			t.Errorf("status %+v", st)
		}
		sq.Check(t, true)
	})

	for _, tc := range []struct{ name, delay string }{
		// OpenCode binds its port a while after it starts: the squatter
		// binds first, and the probe meets it.
		{"while-starting", "3s"},
		// OpenCode killed: the squatter binds after the supervisor found
		// the port free and started the new one (the window an attacker
		// watching /proc/*/cmdline for "--port N" has).
		{"after-crash", "1500ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newAccount(t, "squat-"+tc.name)
			cfg := a.withEnv(map[string]string{"FAKE_MODE": "slow", "FAKE_DELAY": tc.delay})
			s := startServe(t, cfg)
			var st Status
			if tc.name == "after-crash" {
				first := waitPhase(t, cfg.StateDir, PhaseReady, 20*time.Second)
				if err := syscall.Kill(first.OpencodePID, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				testsys.Eventually(t, 10*time.Second, "a new opencode", func() bool {
					st, _ = ReadStatus(cfg.StateDir)
					return st.Phase == PhaseStarting && st.OpencodePID != 0 && st.OpencodePID != first.OpencodePID
				})
			} else {
				testsys.Eventually(t, 10*time.Second, "opencode starting", func() bool {
					st, _ = ReadStatus(cfg.StateDir)
					return st.Phase == PhaseStarting && st.OpencodePID != 0
				})
			}
			sq := squatter.Start(t, bins.squatter, u, cfg.Port)
			begin := time.Now()
			err := s.wait(t, 20*time.Second)
			wantSquatterNamed(t, err, sq, u, cfg.Port)
			// Promptly: within a second on an idle machine (its probe
			// runs every 100 ms while OpenCode starts), longer as the
			// load grows.
			if d, bound := time.Since(begin), testsys.Loaded(time.Second); d > bound {
				t.Errorf("the supervisor took %s to see the squatter (bound %s)", d, bound)
			}
			if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseFailing || !strings.Contains(st.LastError, "user "+u.Name) {
				t.Errorf("status %+v", st)
			}
			sq.Check(t, true)
			testsys.Eventually(t, 10*time.Second, "no process of the account left", func() bool { return len(accountProcs(cfg.DataHome)) == 0 })
		})
	}
}

// TestStopIgnoresSquatter: a squatter on the port of a stopped account
// does not make Stop wait and fail (`oca account remove` calls it).
func TestStopIgnoresSquatter(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	a := newAccount(t, "stop-squat")
	if err := os.MkdirAll(a.cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeStatus(a.cfg.StateDir, Status{Account: a.cfg.Account, Phase: PhaseStopped, Port: a.cfg.Port}); err != nil {
		t.Fatal(err)
	}
	sq := squatter.Start(t, bins.squatter, u, a.cfg.Port)
	begin := time.Now()
	if err := Stop(a.cfg.StateDir, 5*time.Second); err != nil {
		t.Errorf("Stop with a squatter on the port: %v", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Stop waited %s for the squatter", d)
	}
	sq.Check(t, false)
}

// TestIdleIgnoresOtherUsersConnections: another local user holding a
// connection to the server open does not keep it from its idle stop;
// a connection of the user's own does.
func TestIdleIgnoresOtherUsersConnections(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	a := newAccount(t, "idle-other")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	cfg.IdleTimeout = 1500 * time.Millisecond
	cfg.PollInterval = 100 * time.Millisecond
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, 20*time.Second)
	hold := u.Command(bins.squatter, "hold", itoa(cfg.Port))
	out, err := hold.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hold.Process.Kill(); hold.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "connected\n" {
		t.Fatalf("hold: %q, %v", line, err)
	}
	// The connection is there, and is not counted. (Connections of the
	// user's own, the supervisor's health probes, come and go: a moment
	// without one comes.)
	var established, n int
	if !testsys.Poll(10*time.Second, func() bool {
		socks, err := nettcp.Connections(func(s nettcp.Socket) bool { return int(s.Local.Port()) == cfg.Port })
		if err != nil {
			return false
		}
		established = len(socks)
		n, err = establishedClients(cfg.Port)
		return err == nil && established == 1 && n == 0
	}) {
		t.Errorf("%d established, establishedClients = %d; want 1 and 0", established, n)
	}
	begin := time.Now()
	if err := s.wait(t, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("idle stop after %s", d)
	}
	if !strings.Contains(s.log.String(), "no shell and no client") {
		t.Errorf("log does not say why it stopped:\n%s", s.log.String())
	}
}
