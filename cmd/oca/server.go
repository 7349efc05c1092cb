package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/server"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/projectfile"
)

// opencodePath is the opencode binary: the accounts file's, or the one on
// the user's PATH.
func (a *app) opencodePath(reg *account.Registry) (string, error) {
	return a.realOpencode(reg) // never oca's own shim (cmd/oca/shim.go)
}

// serverConfig is what the supervisor of acc needs.
func (a *app) serverConfig(reg *account.Registry, acc *account.Account) (server.Config, error) {
	dirs := reg.Dirs()
	cfg := server.Config{
		Account:     acc.Name,
		Port:        acc.Port,
		DataHome:    acc.DataHome,
		IdleTimeout: acc.IdleTimeout,
		StateDir:    dirs.RuntimeDir(acc.Name),
	}
	if err := account.EnsurePrivateDir(cfg.StateDir); err != nil {
		return cfg, err
	}
	pw, err := account.Password(dirs, acc.Name)
	if err != nil {
		return cfg, err
	}
	cfg.Password = pw
	if cfg.Opencode, err = a.opencodePath(reg); err != nil {
		return cfg, err
	}
	orig, _, _ := a.environ()
	cfg.Env = server.BuildEnv(envList(orig), cfg, acc.Env)
	return cfg, nil
}

// onEnter is the hook's: a shell entered a project of acc.
func (a *app) onEnter(dirs account.Dirs, acc *account.Account, f *projectfile.File, pid int) error {
	stateDir := dirs.RuntimeDir(acc.Name)
	if err := account.EnsurePrivateDir(stateDir); err != nil {
		return err
	}
	if pid > 0 {
		root, err := projectfile.RealPath(filepath.Dir(f.Path))
		if err != nil {
			return err
		}
		if err := server.AddLease(stateDir, pid, root); err != nil {
			return err
		}
	}
	if !f.Autostart || hook.EnvFrom(a.env)["OCA_AUTOSTART"] == "0" {
		return nil
	}
	cfg := server.Config{Account: acc.Name, StateDir: stateDir}
	if acc.Systemd {
		// systemd owns the supervisor: ask it, without waiting.
		bin, err := lookPath("systemctl", hook.EnvFrom(a.env)["PATH"])
		if err != nil {
			return fmt.Errorf("account %s runs under systemd, but systemctl is not on PATH", acc.Name)
		}
		_, err = server.Ensure(cfg, bin, "--user", "start", "--no-block", server.UnitName(acc.Name))
		return err
	}
	started, err := server.Ensure(cfg, a.self, "serve", acc.Name)
	if err != nil || !started {
		return err
	}
	// A new supervisor: say now, not only in its log, what will stop it.
	reg, err := a.registry()
	if err != nil {
		return err
	}
	if _, err := a.opencodePath(reg); err != nil {
		return fmt.Errorf("account %s has no server: %w", acc.Name, err)
	}
	return nil
}

// onLeave is the hook's: a shell left a project of the account name.
func (a *app) onLeave(dirs account.Dirs, name string, pid int) error {
	if pid <= 0 {
		return nil
	}
	return server.DropLease(dirs.RuntimeDir(name), pid)
}

func (a *app) cmdServe(args []string) error {
	pos, _, err := a.parse(newFlags("serve"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: oca serve ACCOUNT")
	}
	reg, err := a.registry()
	if err != nil {
		return err
	}
	acc, err := reg.Get(pos[0])
	if err != nil {
		return err
	}
	if err := account.Prepare(reg.Dirs(), acc); err != nil {
		return err
	}
	cfg, err := a.serverConfig(reg, acc)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	err = server.Serve(ctx, cfg, a.stderr)
	if !errors.Is(err, server.ErrAlreadyRunning) {
		return err
	}
	// One supervisor an account: another one runs. Quietly done when its
	// server is (or is becoming) healthy; else say whose it is.
	st, _ := server.ReadStatus(cfg.StateDir)
	switch st.Phase {
	case server.PhaseReady, server.PhaseStarting, server.PhaseRestarting:
		return nil
	}
	return fmt.Errorf("the server of %s is run by supervisor pid %d already, in phase %s (see: oca status %s)", acc.Name, st.SupervisorPID, st.Phase, acc.Name)
}

func (a *app) cmdServer(args []string) error {
	if len(args) == 0 {
		return usagef("usage: oca server start|stop|restart|wait|logs [ACCOUNT]")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("server " + sub)
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait")
	follow := fs.Bool("f", false, "logs: keep printing as the log grows")
	lines := fs.Int("n", 40, "logs: how many of the last lines to print")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("usage: oca server %s [ACCOUNT]", sub)
	}
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	stateDir := reg.Dirs().RuntimeDir(acc.Name)
	switch sub {
	case "start":
		return a.serverStart(reg, acc)
	case "stop":
		if err := server.Stop(stateDir, *timeout); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "stopped the server of %s\n", acc.Name)
		return nil
	case "restart":
		if err := server.Stop(stateDir, *timeout); err != nil {
			return err
		}
		return a.serverStart(reg, acc)
	case "wait":
		return a.serverWait(reg, acc, *timeout)
	case "logs":
		return a.serverLogs(filepath.Join(stateDir, "serve.log"), *lines, *follow)
	}
	return usagef("unknown server command %q (want start, stop, restart, wait or logs)", sub)
}

func (a *app) serverStart(reg *account.Registry, acc *account.Account) error {
	if err := account.Prepare(reg.Dirs(), acc); err != nil {
		return err
	}
	cfg, err := a.serverConfig(reg, acc)
	if err != nil {
		return err
	}
	started, err := server.Ensure(cfg, a.self, "serve", acc.Name)
	if err != nil {
		return err
	}
	if started {
		fmt.Fprintf(a.stdout, "starting the server of %s on %s (oca server wait %s waits for it)\n", acc.Name, acc.URL(), acc.Name)
	} else {
		fmt.Fprintf(a.stdout, "the server of %s runs already, on %s\n", acc.Name, acc.URL())
	}
	return nil
}

// serverWait waits until the account's server is healthy, with a progress
// line on a terminal.
func (a *app) serverWait(reg *account.Registry, acc *account.Account, timeout time.Duration) error {
	cfg, err := a.serverConfig(reg, acc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- server.WaitReady(ctx, cfg) }()
	tty := isTerminal(a.stderr)
	begin := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if tty {
				fmt.Fprint(a.stderr, "\r\x1b[K")
			}
			if err != nil {
				st, _ := server.ReadStatus(cfg.StateDir)
				if st.LastError != "" {
					return fmt.Errorf("the server of %s is not ready (phase %s): %s", acc.Name, st.Phase, st.LastError)
				}
				return fmt.Errorf("the server of %s is not ready after %s (phase %s; see: oca server logs %s)", acc.Name, timeout, st.Phase, acc.Name)
			}
			// Healthy; let the supervisor see it too, so that `oca status`
			// right after agrees.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if st, err := server.ReadStatus(cfg.StateDir); err != nil || st.Phase != server.PhaseStarting {
					break
				}
			}
			fmt.Fprintf(a.stdout, "the server of %s is ready on %s\n", acc.Name, acc.URL())
			return nil
		case <-tick.C:
			if tty {
				st, _ := server.ReadStatus(cfg.StateDir)
				fmt.Fprintf(a.stderr, "\r\x1b[Kwaiting for the server of %s (%s, %.1fs)", acc.Name, st.Phase, time.Since(begin).Seconds())
			}
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// serverLogs prints the last lines of the log, and with follow, what is
// appended after.
func (a *app) serverLogs(path string, n int, follow bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if !follow {
			return fmt.Errorf("no log yet at %s: the server has not run", path)
		}
		for errors.Is(err, os.ErrNotExist) {
			time.Sleep(200 * time.Millisecond)
			f, err = os.Open(path)
		}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tail(f, a.stdout, n); err != nil {
		return err
	}
	for follow {
		if _, err := io.Copy(a.stdout, f); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// tail writes the last n lines of f and leaves f at its end.
func tail(f *os.File, w io.Writer, n int) error {
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	start := len(data)
	for i := 0; i < n && start > 0; i++ {
		j := start - 1
		if j == len(data)-1 && data[j] == '\n' {
			j--
		}
		for j >= 0 && data[j] != '\n' {
			j--
		}
		start = j + 1
	}
	_, err = w.Write(data[start:])
	return err
}

func (a *app) cmdAttach(args []string) error {
	fs := newFlags("attach")
	timeout := fs.Duration("timeout", attachWait, "how long to wait for the server")
	pos, rest, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("usage: oca attach [ACCOUNT] [-- OPENCODE-ATTACH-ARGS...]")
	}
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	real, err := a.realOpencode(reg)
	if err != nil {
		return err
	}
	env, err := a.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	return a.attach(reg, acc, real, append(shim.AttachArgs(acc.URL(), a.wd), rest...), env, *timeout)
}

// execOpencode replaces oca with opencode ARGS in the account's environment.
func (a *app) execOpencode(reg *account.Registry, acc *account.Account, args []string) error {
	bin, err := a.opencodePath(reg)
	if err != nil {
		return err
	}
	env, err := a.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	return syscall.Exec(bin, append([]string{"opencode"}, args...), envList(env))
}

func (a *app) cmdLogin(args []string) error  { return a.authCommand("login", args) }
func (a *app) cmdLogout(args []string) error { return a.authCommand("logout", args) }

// authCommand runs OpenCode's own `auth login|logout` for the account. The
// account's supervisor sees auth.json change and makes its server reload the
// credentials.
func (a *app) authCommand(verb string, args []string) error {
	pos, rest, err := a.parse(newFlags(verb), args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("usage: oca %s [ACCOUNT] [-- OPENCODE-ARGS...]", verb)
	}
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	return a.execOpencode(reg, acc, append([]string{"auth", verb}, rest...))
}
