package main

// oca exec: run a command with an account's environment.

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

type execOptions struct {
	*app
	Account string
	Command []string // the command and its arguments, after "--"
}

func newExecCmd(a *app) *cobra.Command {
	opts := &execOptions{app: a}
	return a.command(&cobra.Command{
		Use: "exec [ACCOUNT] -- CMD [ARG...]", Short: "run CMD with the account's environment",
		Example: examples(`oca exec work -- opencode run "fix the tests"
			oca exec -- env`),
		RunE: func(c *cobra.Command, args []string) error {
			pos, rest := splitDash(c, args)
			if rest == nil {
				return usagef("usage: %s (the command goes after --)", c.UseLine())
			}
			opts.Account, opts.Command = first(pos), rest
			return execRun(opts)
		},
	})
}

// execRun replaces oca with the command, in the account's environment and
// with oca's shim first on its PATH.
func execRun(opts *execOptions) error {
	if len(opts.Command) == 0 {
		return usagef("usage: oca exec [ACCOUNT] -- CMD [ARG...]")
	}
	acc, reg, err := opts.pick(opts.Account)
	if err != nil {
		return err
	}
	// As entering a project does: what other programs made in the
	// account's homes goes to the user's own, and what cannot (another
	// file system) is said.
	stranded, err := account.PrepareHomes(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	for _, s := range stranded {
		fmt.Fprintln(opts.stderr, "oca: "+shells.Printable(s.Error()))
	}
	env, err := opts.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	if p, ok := env["PATH"]; ok {
		if env["PATH"], err = opts.shimPath(reg.Dirs(), acc, p); err != nil {
			return err
		}
	}
	path, err := lookPath(opts.Command[0], env["PATH"])
	if err != nil {
		return statusError{127, err}
	}
	err = syscall.Exec(path, opts.Command, envList(env))
	if errors.Is(err, syscall.ENOENT) {
		return statusError{127, fmt.Errorf("%s: %w", opts.Command[0], err)}
	}
	return statusError{126, fmt.Errorf("%s: cannot run it: %w", opts.Command[0], err)}
}
