package main

// oca attach: OpenCode's TUI on an account's server, here.

import (
	"fmt"
	"time"

	"github.com/oca-sh/oca/hook/shim"
	"github.com/spf13/cobra"
)

type attachOptions struct {
	*app
	Account string
	Timeout time.Duration // how long to wait for the server
	Args    []string      // opencode attach's own, after "--"
}

func newAttachCmd(a *app) *cobra.Command {
	opts := &attachOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "attach [ACCOUNT] [flags] [-- OPENCODE-ATTACH-ARGS...]", Short: "open OpenCode on the account's server, here, starting it",
		Example: examples(`oca attach
			oca attach work --timeout 2m`),
		RunE: func(c *cobra.Command, args []string) error {
			pos, rest := splitDash(c, args)
			opts.Account, opts.Args = first(pos), rest
			return attachRun(opts)
		},
	})
	addTimeout(c, &opts.Timeout, 0, "how long to wait for the server")
	return c
}

// attachRun runs `opencode attach` as a client of the account's server,
// starting the server.
func attachRun(opts *attachOptions) error {
	if err := opts.externalWait(opts.Account, opts.Timeout); err != nil {
		return err
	}
	acc, reg, run, err := opts.accountOpencode(opts.Account)
	if err != nil {
		return err
	}
	if err := opts.checkProjectCode(reg, opts.wd); err != nil {
		return err
	}
	v, err := opts.detect(run.Path)
	switch {
	case err != nil:
		return err
	case !v.Known():
		return unknownOpencode(run.Path, v)
	case v.Preview:
		return fmt.Errorf("%s is %s, which has no TUI", run.Path, v)
	case v.V2():
		// OpenCode 2 has no attach: its TUI takes the server.
		run.Args = append(append([]string{opts.wd}, opts.Args...), "--server", acc.URL())
	default:
		run.Args = append(shim.AttachArgs(acc.URL(), opts.wd), opts.Args...)
	}
	return opts.client(clientOptions{Account: acc, Registry: reg, Opencode: run, Timeout: opts.Timeout, Version: v})
}
