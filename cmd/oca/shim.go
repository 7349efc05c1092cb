package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
		return a.client(reg, acc, real, plan.Args, xenv, attachWait, true)
	}
	return a.client(reg, acc, real, plan.Args, xenv, attachWait, false)
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

// clientConfig prepares account acc for a client of its server, and
// records a lease for this process with no root (valid while the process
// lives), as a shell in a project has: the server is in use while a client
// lives, even one that is idle with no connection open, and is not stopped
// for idleness while it starts. (The shim and `oca attach` stay the
// client's parent for its whole life, so the lease lasts as long.)
func (a *app) clientConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	if err := account.Prepare(reg.Dirs(), acc); err != nil {
		return supervisor.Config{}, err
	}
	cfg, err := a.serverConfig(reg, acc)
	if err != nil {
		return cfg, err
	}
	if err := supervisor.AddLease(cfg.StateDir, os.Getpid(), ""); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// startAndWait makes sure the account's server runs (ensureServer) and
// waits until it is healthy, saying so in one line on a terminal once the
// wait passes half a second. A server that cannot run is an error with the
// reason from its status file: the caller never falls back to an OpenCode
// of its own.
func (a *app) startAndWait(cfg supervisor.Config, acc *account.Account, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
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
			return notReady(cfg, acc, err, timeout)
		case <-tick.C:
			st, _ := supervisor.ReadStatus(cfg.StateDir)
			if st.Phase == supervisor.PhaseStopped && st.UpdatedAt.After(begin) && time.Since(st.UpdatedAt) > time.Second {
				// Its supervisor started and stopped (stopped by hand,
				// or for a reason its log tells): nothing to wait for.
				if shown {
					fmt.Fprint(a.stderr, "\r\x1b[K")
				}
				return errStoppedWhileStarting(acc)
			}
			if tty && time.Since(begin) >= 500*time.Millisecond {
				fmt.Fprintf(a.stderr, "\r\x1b[Koca: waiting for the server of %s (%s, %.1fs)", acc.Name, st.Phase, time.Since(begin).Seconds())
				shown = true
			}
		}
	}
}

func errStoppedWhileStarting(acc *account.Account) error {
	return fmt.Errorf("the server of %s stopped while starting (see: oca server logs %s)", acc.Name, acc.Name)
}

// notReady is why the account's server is not ready, from err (a wait's)
// and its status file, in one line.
func notReady(cfg supervisor.Config, acc *account.Account, err error, timeout time.Duration) error {
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
