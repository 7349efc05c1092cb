package main

import (
	"errors"
	"fmt"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/spf13/cobra"
)

// accounts returns the accounts named, in that order, or (none named) all
// of them, in name order.
func (a *app) accounts(names []string) (*account.Registry, []*account.Account, error) {
	reg, err := a.registry()
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		names = reg.Names()
	}
	var accs []*account.Account
	for _, n := range names {
		acc, err := reg.Get(n)
		if err != nil {
			return nil, nil, err
		}
		accs = append(accs, acc)
	}
	return reg, accs, nil
}

// picked is the account a command on [ACCOUNT] acts on: the one named,
// or the working directory's, picked before the command runs.
type picked struct {
	Account  *account.Account
	Registry *account.Registry
}

// runE is the RunE of a command on [ACCOUNT]: it picks the account that
// the first of args names, then runs run.
func (p *picked) runE(a *app, run func() error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) (err error) {
		if p.Account, p.Registry, err = a.pick(first(args)); err != nil {
			return err
		}
		return run()
	}
}

// pick returns the account name, or ("") else the account of the working
// directory, with an error that says why there is none.
func (a *app) pick(name string) (*account.Account, *account.Registry, error) {
	reg, err := a.registry()
	if err != nil {
		return nil, nil, err
	}
	if name == "" {
		// Which, not Export: learning the account changes nothing on disk.
		var msgs []string
		name, msgs, err = hook.Which(hook.Input{Env: hook.EnvFrom(a.env), PWD: a.wd})
		if err != nil {
			return nil, nil, err
		}
		for _, m := range msgs {
			fmt.Fprintln(a.stderr, m)
		}
		if name == "" {
			return nil, nil, fmt.Errorf("no account for %s: name one, or bind this directory with: oca init ACCOUNT", a.wd)
		}
	}
	acc, err := reg.Get(name)
	return acc, reg, err
}

// accountTo returns account name of reg for a command that would verb it,
// with one line naming where to see the accounts when there is none.
func accountTo(reg *account.Registry, name, verb string) (*account.Account, error) {
	acc, err := reg.Get(name)
	var nf *account.NotFoundError
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("no account %q to %s (see: oca account list)", name, verb)
	}
	return acc, err
}
