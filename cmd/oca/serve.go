package main

// oca serve: an account's supervisor, in the foreground.

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/spf13/cobra"
)

type serveOptions struct {
	*app
	Account string
}

func newServeCmd(a *app) *cobra.Command {
	opts := &serveOptions{app: a}
	return a.command(&cobra.Command{
		Use: "serve ACCOUNT", Short: "the server's supervisor, in the foreground",
		Example: examples(`oca serve work`),
		RunE:    func(c *cobra.Command, args []string) error { opts.Account = args[0]; return serveRun(opts) },
	})
}

// serveRun runs the account's supervisor until a signal stops it, or
// returns at once when another runs.
func serveRun(opts *serveOptions) error {
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	acc, err := reg.Get(opts.Account)
	if err != nil {
		return err
	}
	if acc.External {
		return errExternal(acc, "serve")
	}
	if _, err := account.PrepareHomes(reg.Dirs(), acc); err != nil {
		return err
	}
	cfg, err := opts.supervisorConfig(reg, acc)
	if err != nil {
		return err
	}
	// `oca account remove` and `rename` hold the lock while they change
	// the account: once Serve has it, and for as long as it runs, the
	// account must be as it was started.
	cfg.Current = func() (string, error) { return account.Gone(reg.Dirs(), acc) }
	cfg.AccountsFile = reg.Path
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	err = supervisor.Serve(ctx, cfg, opts.stderr)
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
