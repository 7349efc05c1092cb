package main

import (
	"bytes"
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
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/projectfile"
	"golang.org/x/sys/unix"
)

// opencodePath is the opencode binary: the accounts file's, or the one on
// the user's PATH.
func (a *app) opencodePath(reg *account.Registry) (string, error) {
	return a.realOpencode(reg) // never oca's own shim (cmd/oca/shim.go)
}

// serverConfig is what the supervisor of acc needs, with its config dir
// checked now: a command that starts or waits for a server refuses a bad
// one at once.
func (a *app) serverConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	cfg, err := a.supervisorConfig(reg, acc)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.ConfigDirCheck()
}

// supervisorConfig is what the supervisor of acc needs. The config dir is
// left to the supervisor (Config.ConfigDirCheck), which checks it before
// each start of OpenCode and says in its status why it will not start one.
func (a *app) supervisorConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	dirs := reg.Dirs()
	cfg := supervisor.Config{
		Account:        acc.Name,
		Port:           acc.Port,
		DataHome:       acc.DataHome,
		StateHome:      acc.StateHome,
		ConfigDir:      acc.ConfigDir,
		IdleTimeout:    acc.IdleTimeout,
		StateDir:       dirs.RuntimeDir(acc.Name),
		ConfigDirCheck: func() error { return account.EnsureConfigDir(acc) },
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
	cfg.Env = supervisor.BuildEnv(envList(orig), cfg, acc.Env)
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
		if err := supervisor.AddLease(stateDir, pid, root); err != nil {
			return err
		}
	}
	if !f.Autostart || !hook.EnvFrom(a.env).Flag("OCA_AUTOSTART", true) {
		return nil
	}
	started, err := a.ensureServer(supervisor.Config{Account: acc.Name, StateDir: stateDir}, acc)
	if err != nil || !started || acc.Systemd {
		return err
	}
	// A new supervisor: say now, not only in its log, what will stop it.
	if pie := (*opencode.PortInUseError)(nil); errors.As(opencode.VerifyListener(acc.Port), &pie) {
		return fmt.Errorf("account %s has no server: %w (not the account's; its password is not sent there)", acc.Name, pie)
	}
	reg, err := a.registry()
	if err != nil {
		return err
	}
	if _, err := a.opencodePath(reg); err != nil {
		return fmt.Errorf("account %s has no server: %w", acc.Name, err)
	}
	return nil
}

// ensureServer starts the supervisor of acc's server where it is not
// running, without waiting, as the account says its server runs: under
// systemd (systemctl --user start), by oca itself (oca serve), or, for an
// external account, not at all. started tells whether one was started.
func (a *app) ensureServer(cfg supervisor.Config, acc *account.Account) (started bool, err error) {
	switch {
	case acc.External:
		return false, nil
	case acc.Systemd:
		bin, err := lookPath("systemctl", hook.EnvFrom(a.env)["PATH"])
		if err != nil {
			return false, fmt.Errorf("account %s runs under systemd, but systemctl is not on PATH", acc.Name)
		}
		return supervisor.Ensure(cfg, bin, "--user", "start", "--no-block", supervisor.UnitName(acc.Name))
	}
	return supervisor.Ensure(cfg, a.self, "serve", acc.Name)
}

// errExternal is what a command that would start or stop acc's server
// says when the account's server runs elsewhere.
func errExternal(acc *account.Account, what string) error {
	return fmt.Errorf("the server of %s runs elsewhere (external = true in accounts.toml): %s it where it runs (for oca compose: docker compose up -d, or down)", acc.Name, what)
}

// onLeave is the hook's: a shell left a project of the account name.
func (a *app) onLeave(dirs account.Dirs, name string, pid int) error {
	if pid <= 0 {
		return nil
	}
	return supervisor.DropLease(dirs.RuntimeDir(name), pid)
}

func (a *app) cmdServe(name string) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	acc, err := reg.Get(name)
	if err != nil {
		return err
	}
	if acc.External {
		return errExternal(acc, "serve")
	}
	if _, err := account.PrepareHomes(reg.Dirs(), acc); err != nil {
		return err
	}
	cfg, err := a.supervisorConfig(reg, acc)
	if err != nil {
		return err
	}
	// `oca account remove` holds the lock while it removes: once Serve
	// has it, the account must still be there.
	cfg.Registered = func() error {
		reg, err := a.registry()
		if err != nil {
			return err
		}
		_, err = reg.Get(acc.Name)
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	err = supervisor.Serve(ctx, cfg, a.stderr)
	if !errors.Is(err, supervisor.ErrAlreadyRunning) {
		return err
	}
	// One supervisor an account: another one runs. Quietly done when its
	// server is (or is becoming) healthy; else say whose it is.
	st, _ := supervisor.ReadStatus(cfg.StateDir)
	switch st.Phase {
	case supervisor.PhaseReady, supervisor.PhaseStarting, supervisor.PhaseRestarting:
		return nil
	}
	return fmt.Errorf("the server of %s is run by supervisor pid %d already, in phase %s (see: oca status %s)", acc.Name, st.SupervisorPID, st.Phase, acc.Name)
}

func (a *app) serverStop(reg *account.Registry, acc *account.Account, timeout time.Duration) error {
	if acc.External {
		return errExternal(acc, "stop")
	}
	if err := supervisor.Stop(reg.Dirs().RuntimeDir(acc.Name), timeout); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "stopped the server of %s\n", acc.Name)
	return nil
}

func (a *app) serverStart(reg *account.Registry, acc *account.Account) error {
	if acc.External {
		return errExternal(acc, "start")
	}
	if err := account.Prepare(reg.Dirs(), acc); err != nil {
		return err
	}
	cfg, err := a.serverConfig(reg, acc)
	if err != nil {
		return err
	}
	started, err := a.ensureServer(cfg, acc)
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

// failingNow is the error of a server whose supervisor gave up (phase
// failing): nothing will make it ready, so a wait says why at once.
func (a *app) failingNow(reg *account.Registry, acc *account.Account) error {
	st, err := supervisor.ReadStatus(reg.Dirs().RuntimeDir(acc.Name))
	if err != nil || st.Phase != supervisor.PhaseFailing {
		return nil
	}
	why := st.LastError
	if why == "" {
		why = "see: oca server logs " + acc.Name
	}
	return fmt.Errorf("the server of %s is failing, and its supervisor gave up: %s (start it again with: oca server restart %s)", acc.Name, why, acc.Name)
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
	go func() { done <- supervisor.WaitReady(ctx, cfg) }()
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
			if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
				return fmt.Errorf("the server of %s is not ready: %w (not the account's; its password is not sent there)", acc.Name, pie)
			}
			if err != nil {
				st, _ := supervisor.ReadStatus(cfg.StateDir)
				if st.LastError != "" {
					return fmt.Errorf("the server of %s is not ready (phase %s): %s", acc.Name, st.Phase, st.LastError)
				}
				return fmt.Errorf("the server of %s is not ready after %s (phase %s; see: oca server logs %s)", acc.Name, timeout, st.Phase, acc.Name)
			}
			// Healthy; let the supervisor see it too, so that `oca status`
			// right after agrees.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if st, err := supervisor.ReadStatus(cfg.StateDir); err != nil || st.Phase != supervisor.PhaseStarting {
					break
				}
			}
			fmt.Fprintf(a.stdout, "the server of %s is ready on %s\n", acc.Name, acc.URL())
			return nil
		case <-tick.C:
			if tty {
				st, _ := supervisor.ReadStatus(cfg.StateDir)
				fmt.Fprintf(a.stderr, "\r\x1b[Kwaiting for the server of %s (%s, %.1fs)", acc.Name, st.Phase, time.Since(begin).Seconds())
			}
		}
	}
}

// isTerminal reports whether f (a stream) is a terminal: a character
// device such as /dev/null is not.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}

// serverLogs prints the last lines of the log, and with follow, what is
// appended after.
// serverLogs prints the last n lines of the log, and with follow, what is
// appended after, until ctx ends.
func (a *app) serverLogs(ctx context.Context, path string, n int, follow bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if !follow {
			return fmt.Errorf("no log yet at %s: the server has not run", path)
		}
		for errors.Is(err, os.ErrNotExist) {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
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
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// tail writes the last n lines of f and leaves f at its end.
func tail(f *os.File, w io.Writer, n int) error {
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	// Each line back from the end; a last newline ends the last line.
	cut := len(data)
	if cut > 0 && data[cut-1] == '\n' {
		cut--
	}
	start := len(data)
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(data[:cut], '\n')
		start = j + 1
		if j < 0 {
			break
		}
		cut = j
	}
	_, err = w.Write(data[start:])
	return err
}

func (a *app) cmdAttach(pos, rest []string, timeout time.Duration) error {
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
	return a.client(reg, acc, real, append(shim.AttachArgs(acc.URL(), a.wd), rest...), env, timeout, false)
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

// authCommand runs OpenCode's own `auth login|logout` for the account. The
// account's supervisor sees auth.json change and makes its server reload the
// credentials.
func (a *app) authCommand(verb string, pos, rest []string) error {
	if len(pos) == 2 {
		rest = append([]string{"--provider", pos[1]}, rest...)
		pos = pos[:1]
	}
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	return a.execOpencode(reg, acc, append([]string{"auth", verb}, rest...))
}
