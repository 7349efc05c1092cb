package main

// oca hook and oca export: what the shell's hook runs. Both run at prompts,
// before the command tree is built (fastPath in tree.go); the tree runs the
// same run functions for help, bad flags and completion.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/export"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor"
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

// hookScriptRun prints the hook script of the shell, which runs
// exportBin.
func hookScriptRun(opts *hookOptions) error {
	sh, err := shells.Get(opts.Shell)
	if err != nil {
		return usagef("%v", err)
	}
	script, err := sh.Hook(exportBin(opts.self))
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(opts.stdout, script)
	return err
}

// exportBin is the binary the hook runs to export: oca-export where it is
// installed beside oca (cmd/oca-export: it links only what entering needs,
// so it starts faster), else oca itself.
func exportBin(self string) string {
	p := filepath.Join(filepath.Dir(self), "oca-export")
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p
	}
	return self
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

// exportRun runs `oca export` (hook/export), starting the entered
// account's server when it must.
func exportRun(opts *exportOptions) error {
	if opts.Format != "json" {
		if _, err := shells.Get(opts.Format); err != nil {
			return usagef("unknown format %q (want one of: %s, json)", opts.Format, strings.Join(shells.Names(), ", "))
		}
	}
	return export.Run(export.Options{Format: opts.Format, PID: opts.PID, Env: opts.env, WD: opts.wd, Self: opts.self,
		Stdout: opts.stdout, Stderr: opts.stderr, Start: opts.startServer})
}

// startServer is the hook's start of the server of acc, which a shell just
// entered: its supervisor, and at once what would stop it.
func (a *app) startServer(dirs account.Dirs, acc *account.Account) error {
	started, err := a.ensureServer(supervisor.Config{Account: acc.Name, StateDir: dirs.RuntimeDir(acc.Name)}, acc)
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
