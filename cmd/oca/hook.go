package main

// oca hook and oca export: what the shell's hook runs. Both run at prompts,
// before the command tree is built (fastPath in tree.go); the tree runs the
// same run functions for help, bad flags and completion.

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

type hookOptions struct {
	*app
	Shell string // bash, zsh or fish
}

func newHookCmd(a *app) *cobra.Command {
	opts := &hookOptions{app: a}
	return a.command(&cobra.Command{
		Use: "hook bash|zsh|fish", Short: `the rc snippet: eval "$(oca hook bash)", or for fish: oca hook fish | source`,
		Example: examples(`eval "$(oca hook bash)"     # in ~/.bashrc
			oca hook fish | source      # in ~/.config/fish/config.fish`),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Shell = args[0]
			return hookScriptRun(opts)
		},
	})
}

// hookScriptRun prints the hook script of the shell, which runs this binary.
func hookScriptRun(opts *hookOptions) error {
	sh, err := shells.Get(opts.Shell)
	if err != nil {
		return usagef("%v", err)
	}
	script, err := sh.Hook(opts.self)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(opts.stdout, script)
	return err
}

type exportOptions struct {
	*app
	Format string // a shell's name, or json
	PID    int    // the shell that asks, for server leases (0: none)
}

func newExportCmd(a *app) *cobra.Command {
	opts := &exportOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "export bash|zsh|fish|json", Short: "what the hook evaluates, for the working directory",
		Example: examples(`oca export json
			eval "$(oca export bash)"`),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Format = args[0]
			return exportRun(opts)
		},
	})
	c.Flags().IntVar(&opts.PID, "pid", 0, "`PID` of the shell that asks (for server leases)")
	return c
}

// exportRun prints what the shell evaluates for the working directory:
// hook.Export's changes, spelt for the shell, or as JSON.
func exportRun(opts *exportOptions) error {
	var sh shells.Shell
	var quote func(string) string
	if opts.Format != "json" {
		var err error
		if sh, err = shells.Get(opts.Format); err != nil {
			return usagef("%v", err)
		}
		quote = sh.Quote
	}
	env := hook.EnvFrom(opts.env)
	out, err := hook.Export(hook.Input{Env: env, PWD: opts.wd, PID: opts.PID, Self: opts.self, OnEnter: opts.onEnter, OnLeave: opts.onLeave, Quote: quote})
	if err != nil {
		return err
	}
	for _, m := range out.Messages {
		fmt.Fprintln(opts.stderr, m)
	}
	if out.Entered != "" && !env.Flag("OCA_QUIET", false) {
		fmt.Fprintf(opts.stderr, "oca: account %s\n", out.Entered)
	}
	for _, l := range out.Logins {
		fmt.Fprintln(opts.stderr, l)
	}
	if sh == nil {
		return opts.writeJSON(out)
	}
	e := shells.Export{File: out.File, Shim: out.Shim}
	for _, c := range out.Changes {
		e.Vars = append(e.Vars, shells.Var{Name: c.Name, Value: c.Value, Unset: c.Unset})
	}
	for _, u := range out.Undo {
		set := "0"
		if u.Set {
			set = "1"
		}
		e.Undo = append(e.Undo, u.Name, u.Applied, set, u.Prev)
	}
	for _, w := range out.Watch {
		e.Watch = append(e.Watch, w.Path, w.Stamp)
	}
	code, err := sh.Spell(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(opts.stdout, code)
	return err
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
		if err := statedir.AddLease(stateDir, pid, root); err != nil {
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
	if _, err := a.realOpencode(reg); err != nil {
		return fmt.Errorf("account %s has no server: %w", acc.Name, err)
	}
	return nil
}

// onLeave is the hook's: a shell left a project of the account name.
func (a *app) onLeave(dirs account.Dirs, name string, pid int) error {
	if pid <= 0 {
		return nil
	}
	return statedir.DropLease(dirs.RuntimeDir(name), pid)
}
