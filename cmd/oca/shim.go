package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/hook/supervisor"
)

// attachWait is how long `opencode` (the shim) and `oca attach` wait for the
// account's server by default: a real OpenCode takes 1-40 s to start under
// load.
const attachWait = 90 * time.Second

// isShim tells whether oca was started as its own `opencode`: the link in
// the shim directory. main checks it before anything else, so that the shim
// costs one process start.
func isShim(argv0 string) bool { return filepath.Base(argv0) == shim.Name }

// shimMain is main for the shim.
func shimMain() int {
	a := newApp()
	err := a.runShim(os.Args[1:])
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	fmt.Fprintf(a.stderr, "oca: opencode: %v\n", err)
	return 1
}

// newApp is the invocation of this process.
func newApp() *app {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	wd := os.Getenv("PWD")
	if cwd, err := os.Getwd(); err == nil && (wd == "" || !sameDir(wd, cwd)) {
		wd = cwd
	}
	return &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, env: os.Environ(), wd: wd, self: self}
}

// runShim is `opencode ARGS` in a bound project: the TUI attaches to the
// account's server, `run` runs through it, and the rest is the real
// OpenCode with the account's environment (see shim.Map).
func (a *app) runShim(args []string) error {
	env := hook.EnvFrom(a.env)
	_, dirs, err := a.environ()
	if err != nil {
		return err
	}
	reg, err := account.Load(dirs)
	if err != nil {
		return err
	}
	real, err := a.realOpencode(reg)
	if err != nil {
		return err
	}
	name := env["OPENCODE_ACCOUNT"]
	if name == "" {
		// Not in a project (the shim on a PATH that left one): the plain
		// OpenCode, as it is.
		return a.execReal(real, args, env)
	}
	acc, err := reg.Get(name)
	if err != nil {
		return fmt.Errorf("OPENCODE_ACCOUNT=%s: %w", name, err)
	}
	if !hook.Attaches(env, acc) {
		return a.execReal(real, args, env)
	}
	xenv, err := a.accountEnv(dirs, acc)
	if err != nil {
		return err
	}
	xenv["PATH"] = env["PATH"] // the shell's, shim and all, for OpenCode's own children
	plan := shim.Map(shim.Input{Args: args, URL: acc.URL(), Dir: a.wd, IsDir: isDir})
	switch plan.Kind {
	case shim.Standalone:
		fmt.Fprintf(a.stderr, "oca: %s\n", plan.Note)
		return a.execReal(real, plan.Args, xenv)
	case shim.PassThrough:
		return a.execReal(real, plan.Args, xenv)
	case shim.Run:
		return a.runAttached(reg, acc, real, plan.Args, xenv)
	}
	return a.attach(reg, acc, real, plan.Args, xenv, attachWait)
}

// runAttached is `opencode run --attach URL …` through a supervisor.RunProxy,
// which holds the prompt's answer until the reply has reached run's event
// stream (OpenCode 1.18's run, attached, exits without printing it
// otherwise). oca stays the parent: it passes signals on and exits as run
// does.
func (a *app) runAttached(reg *account.Registry, acc *account.Account, real string, args []string, env hook.Env) error {
	if err := a.ready(reg, acc, attachWait); err != nil {
		return err
	}
	if err := opencode.VerifyListener(acc.Port); err != nil {
		return fmt.Errorf("not attaching to the server of %s: %w", acc.Name, err)
	}
	proxy, err := supervisor.StartRunProxy(acc.Port)
	if err != nil {
		return fmt.Errorf("opencode run through the server of %s: %w", acc.Name, err)
	}
	defer proxy.Close()
	args = slices.Clone(args)
	for i := range args {
		if args[i] == acc.URL() && i > 0 && args[i-1] == "--attach" {
			args[i] = proxy.URL()
		}
	}
	delete(env, "OPENCODE_SERVER_USERNAME")
	cmd := exec.Command(real, args...)
	cmd.Args[0] = "opencode"
	cmd.Env = envList(env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err = cmd.Wait()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitError(128 + int(ws.Signal()))
		}
		return exitError(ee.ExitCode())
	}
	return err
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// realOpencode is the real OpenCode: the accounts file's opencode key, else
// the first opencode on PATH outside oca's shim directories; never oca.
func (a *app) realOpencode(reg *account.Registry) (string, error) {
	orig, _, err := a.environ()
	if err != nil {
		return "", err
	}
	p, err := shim.Real(reg.Opencode, orig["PATH"], a.self)
	switch {
	case errors.Is(err, shim.ErrSelf) && reg.Opencode != "":
		return "", fmt.Errorf("opencode = %q in %s: %w; name the real OpenCode there", reg.Opencode, reg.Path, err)
	case errors.Is(err, shim.ErrSelf):
		return "", fmt.Errorf("%w; remove that link, or set opencode = \"/path/to/the/real/opencode\" in %s", err, reg.Path)
	case errors.Is(err, fs.ErrNotExist):
		return "", errors.New("opencode is not on PATH (install it with: npm install -g opencode-ai, or set opencode = \"/path\" in accounts.toml)")
	case err != nil:
		return "", fmt.Errorf("opencode = %q in %s %w", reg.Opencode, reg.Path, err)
	}
	return p, nil
}

func (a *app) execReal(bin string, args []string, env hook.Env) error {
	return syscall.Exec(bin, append([]string{"opencode"}, args...), envList(env))
}

// ready makes sure the account's server runs and waits until it is
// healthy, saying so in one line on a terminal once the wait passes half a
// second. A server that cannot run is an error with the reason from its
// status file: the caller never falls back to an OpenCode of its own.
func (a *app) ready(reg *account.Registry, acc *account.Account, timeout time.Duration) error {
	if err := account.Prepare(reg.Dirs(), acc); err != nil {
		return err
	}
	cfg, err := a.serverConfig(reg, acc)
	if err != nil {
		return err
	}
	// This process (OpenCode, once exec'd: the pid stays) holds a lease
	// for its life, as a shell in a project does: the server is in use
	// while a client lives, even one that is idle with no connection
	// open, and is not stopped for idleness while it starts.
	if err := supervisor.AddLease(cfg.StateDir, os.Getpid(), ""); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Already healthy: no supervisor to start, nothing to wait for.
	if ok, _ := opencode.Health(ctx, cfg.Port, cfg.Password); ok {
		return nil
	}
	if _, err := a.ensureServer(cfg, acc); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- supervisor.WaitReady(ctx, cfg) }()
	tty := isTerminal(a.stderr)
	begin := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	shown := false
	for {
		select {
		case err := <-done:
			if shown {
				fmt.Fprint(a.stderr, "\r\x1b[K")
			}
			if err == nil {
				return nil
			}
			if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
				return fmt.Errorf("the server of %s cannot run: %w (not the account's; its password is not sent there)", acc.Name, pie)
			}
			if acc.External {
				return fmt.Errorf("the server of %s runs elsewhere (external = true in accounts.toml) and does not answer on %s after %s: start it where it runs (for oca compose: docker compose up -d)", acc.Name, acc.URL(), timeout)
			}
			st, _ := supervisor.ReadStatus(cfg.StateDir)
			if st.LastError != "" {
				return fmt.Errorf("the server of %s cannot run (phase %s): %s (see: oca server logs %s)", acc.Name, st.Phase, st.LastError, acc.Name)
			}
			return fmt.Errorf("the server of %s is not ready after %s (phase %s; see: oca server logs %s)", acc.Name, timeout, st.Phase, acc.Name)
		case <-tick.C:
			st, _ := supervisor.ReadStatus(cfg.StateDir)
			if st.Phase == supervisor.PhaseStopped && st.UpdatedAt.After(begin) && time.Since(st.UpdatedAt) > time.Second {
				// Its supervisor started and stopped (stopped by hand,
				// or for a reason its log tells): nothing to wait for.
				if shown {
					fmt.Fprint(a.stderr, "\r\x1b[K")
				}
				return fmt.Errorf("the server of %s stopped while starting (see: oca server logs %s)", acc.Name, acc.Name)
			}
			if tty && time.Since(begin) >= 500*time.Millisecond {
				fmt.Fprintf(a.stderr, "\r\x1b[Koca: waiting for the server of %s (%s, %.1fs)", acc.Name, st.Phase, time.Since(begin).Seconds())
				shown = true
			}
		}
	}
}

// attach is "wait for the account's server, then attach here", for `oca
// attach` and the shim alike: the real OpenCode at real with args (attach
// URL --dir DIR ..., or run --attach URL ...) in env, the account's
// environment. The password is in env, never on the command line (ps
// shows that); the user name is OpenCode's default, which the server wants.
func (a *app) attach(reg *account.Registry, acc *account.Account, real string, args []string, env hook.Env, timeout time.Duration) error {
	if err := a.ready(reg, acc, timeout); err != nil {
		return err
	}
	// OpenCode sends the password itself: to the user's own listener only.
	if err := opencode.VerifyListener(acc.Port); err != nil {
		return fmt.Errorf("not attaching to the server of %s: %w", acc.Name, err)
	}
	delete(env, "OPENCODE_SERVER_USERNAME")
	return a.execReal(real, args, env)
}

// shimPath is PATH for a command of account acc run by oca (oca exec): oca's
// shim directory first when the account attaches, so that `opencode`, there
// and in the command's children, goes to the account's server.
func (a *app) shimPath(dirs account.Dirs, acc *account.Account, path string) (string, error) {
	dir := shim.Dir(dirs.State)
	path = shim.Strip(path, dir)
	if !hook.Attaches(hook.EnvFrom(a.env), acc) {
		return path, nil
	}
	if err := account.EnsurePrivateDir(dirs.State); err != nil {
		return "", err
	}
	if err := shim.Ensure(dir, a.self); err != nil {
		return "", err
	}
	if p := shim.Prepend(path, dir); p != "" {
		return p, nil
	}
	return path, nil
}
