package main

// oca's own `opencode`: the link in the shim directory, which main runs
// before anything else, so that the shim costs one process start.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
)

// attachWait is how long `opencode` (the shim) and `oca attach` wait for the
// account's server by default: a real OpenCode takes 1-40 s to start under
// load.
const attachWait = 90 * time.Second

// isShim tells whether oca was started as its own `opencode`.
func isShim(argv0 string) bool { return filepath.Base(argv0) == shim.Name }

// runShim is `opencode ARGS`, and returns the exit status. In a bound
// project the TUI attaches to the account's server, `run` runs through it,
// and the rest is the real OpenCode with the account's environment (see
// shim.Map); elsewhere it is the plain OpenCode.
func (a *app) runShim(args []string) int {
	if err := a.shim(args); err != nil {
		return a.fail(fmt.Errorf("opencode: %w", err))
	}
	return 0
}

func (a *app) shim(args []string) error {
	env := hook.EnvFrom(a.env)
	reg, err := a.registry()
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
		return a.runOpencode(opencodeRun{Path: real, Args: args, Env: env})
	}
	acc, err := reg.Get(name)
	if err != nil {
		return fmt.Errorf("OPENCODE_ACCOUNT=%s: %w", name, err)
	}
	if !hook.Attaches(env, acc) {
		return a.runOpencode(opencodeRun{Path: real, Args: args, Env: env})
	}
	xenv, err := a.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	xenv["PATH"] = env["PATH"] // the shell's, shim and all, for OpenCode's own children
	plan := shim.Map(shim.Input{Args: args, URL: acc.URL(), Dir: a.wd, IsDir: isDir})
	run := opencodeRun{Path: real, Args: plan.Args, Env: xenv}
	switch plan.Kind {
	case shim.Standalone:
		fmt.Fprintf(a.stderr, "oca: %s\n", plan.Note)
		return a.runOpencode(run)
	case shim.PassThrough:
		return a.runOpencode(run)
	}
	return a.client(clientOptions{Account: acc, Registry: reg, Opencode: run, Timeout: attachWait, Run: plan.Kind == shim.Run})
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

// clientConfig prepares account acc for a client of its server, and
// records a lease for this process with no root (valid while the process
// lives), as a shell in a project has: the server is in use while a client
// lives, even one that is idle with no connection open, and is not stopped
// for idleness while it starts. (The shim and `oca attach` stay the
// client's parent for its whole life, so the lease lasts as long.)
func (a *app) clientConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	cfg, err := a.preparedConfig(reg, acc)
	if err != nil {
		return cfg, err
	}
	if err := statedir.AddLease(cfg.StateDir, os.Getpid(), ""); err != nil {
		return cfg, err
	}
	return cfg, nil
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
