package main

// oca's own `opencode`: the link in the shim directory, which main runs
// before anything else, so that the shim costs one process start.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
)

// isShim tells whether oca was started as its own `opencode`.
func isShim(argv0 string) bool { return filepath.Base(argv0) == shim.Name }

// runShim is `opencode ARGS`, and returns the exit status. In a bound
// project the TUI attaches to the account's server, `run` runs through it,
// and the rest is the real OpenCode with the account's environment (see
// shim.Map; on OpenCode 2, shim.MapV2 and shimV2); elsewhere it is the
// plain OpenCode.
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
	bound, err := a.shimAccount(env) // shims.go
	if err != nil {
		return err
	}
	name := bound.Name
	if name == "" {
		// Not in a project, or in one whose file does not apply: the
		// plain OpenCode, as it is.
		return a.runOpencode(opencodeRun{Path: real, Args: args, Env: bound.Plain})
	}
	acc, err := reg.Get(name)
	if err != nil {
		return fmt.Errorf("OPENCODE_ACCOUNT=%s: %w", name, err)
	}
	xenv, err := a.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	if !hook.Attaches(env, acc) {
		if !bound.Resolved {
			xenv = env // the binding's own environment, as it is
		}
		return a.runOpencode(opencodeRun{Path: real, Args: args, Env: xenv})
	}
	xenv["PATH"] = env["PATH"] // the shell's, shim and all, for OpenCode's own children
	if shim.NeedsNoServer(args) {
		// Help, the version, a server of the user's: as asked.
		return a.runOpencode(opencodeRun{Path: real, Args: args, Env: xenv})
	}
	v, err := a.detect(real)
	switch {
	case err != nil:
		return err
	case !v.Known():
		return unknownOpencode(real, v)
	case v.V2():
		return a.shimV2(reg, acc, v, opencodeRun{Path: real, Env: xenv}, args)
	}
	plan := shim.Map(shim.Input{Args: args, URL: acc.URL(), Dir: a.wd, IsDir: isDir})
	run := opencodeRun{Path: real, Args: plan.Args, Env: xenv}
	switch plan.Kind {
	case shim.Standalone, shim.PassThrough:
		// OpenCode 1.x on its own opens the account's database: never one
		// that OpenCode 2 has migrated.
		if err := opencode.CanRun(acc.DataHome, v); err != nil {
			return err
		}
		a.awaitStart(reg, acc)
		if plan.Kind == shim.Standalone {
			fmt.Fprintf(a.stderr, "oca: %s\n", plan.Note)
		}
		return a.runOpencode(run)
	}
	if err := a.checkProjectCode(reg, clientDir(plan.Args, a.wd)); err != nil {
		return err
	}
	return a.client(clientOptions{Account: acc, Registry: reg, Opencode: run, Run: plan.Kind == shim.Run, Version: v})
}

// unknownOpencode is the refusal of an OpenCode oca does not know, as a
// client of an account's server: one line naming what it found.
func unknownOpencode(real string, v opencode.Version) error {
	found := "nothing oca knows"
	if v.Text != "" {
		found = strconv.Quote(v.Text)
	}
	return fmt.Errorf("%s --version says %s, a version oca does not run as a client of an account's server (%s): install one of those, or name it with opencode = \"/path\" in accounts.toml", real, found, opencode.Supported)
}

// shimV2 is `opencode ARGS` of OpenCode 2 in a bound project (shim.MapV2):
// the TUI and run are clients of the account's server, through oca's proxy
// (`--server PROXY`, its password in OPENCODE_PASSWORD); `service
// start|stop|restart|status` are oca's commands for the account's server;
// every other command waits for that server, registered in the account's
// state home, where V2's own discovery finds it, and runs as asked.
func (a *app) shimV2(reg *account.Registry, acc *account.Account, v opencode.Version, run opencodeRun, args []string) error {
	plan := shim.MapV2(shim.Input{Args: args, URL: acc.URL(), Dir: a.wd, IsDir: isDir})
	run.Args = plan.Args
	switch plan.Kind {
	case shim.Service:
		return a.shimService(acc, plan.Args[0])
	case shim.Standalone:
		fmt.Fprintf(a.stderr, "oca: %s\n", plan.Note)
		return a.runOpencode(run)
	case shim.PassThrough:
		if err := a.v2ServerFor(reg, acc); err != nil {
			return err
		}
		return a.runOpencode(run)
	}
	if v.Preview {
		return fmt.Errorf("%s is %s, which has no TUI and no run: use OpenCode 2 (its stable line), or oca exec %s -- %s COMMAND", run.Path, v, acc.Name, filepath.Base(run.Path))
	}
	if err := a.checkProjectCode(reg, clientDir(plan.Args, a.wd)); err != nil {
		return err
	}
	return a.client(clientOptions{Account: acc, Registry: reg, Opencode: run, Run: plan.Kind == shim.Run, Version: v})
}

// v2ServerFor makes sure the account's OpenCode 2 server runs and is
// registered in its state home before a V2 command runs in the account's
// environment: the command finds it there, and starts no server of its
// own. The server is leased to this process, which the command replaces.
func (a *app) v2ServerFor(reg *account.Registry, acc *account.Account) error {
	cfg, err := a.clientConfig(reg, acc)
	if err != nil {
		return err
	}
	if failed := failingNow(reg, acc); failed != nil {
		return failed
	}
	return a.startAndWait(cfg, acc, startTimeout(acc, 0))
}

// shimService is `opencode service SUB` in a bound project: the account's
// server is oca's, so oca's command of that name runs, said in one line.
func (a *app) shimService(acc *account.Account, sub string) error {
	cmd := []string{"server", sub, acc.Name}
	if sub == "status" {
		cmd = []string{"status", acc.Name}
	}
	fmt.Fprintf(a.stderr, "oca: opencode service %s: the server of %s is oca's; running: oca %s\n", sub, acc.Name, strings.Join(cmd, " "))
	if code := a.run(cmd); code != 0 {
		return exitError(code)
	}
	return nil
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
