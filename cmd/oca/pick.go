package main

import (
	"fmt"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
)

// pick returns the account named in pos, or else the account of the
// working directory, with an error that says why there is none.
func (a *app) pick(pos []string) (*account.Account, *account.Registry, error) {
	reg, err := a.registry()
	if err != nil {
		return nil, nil, err
	}
	if len(pos) > 0 {
		acc, err := reg.Get(pos[0])
		return acc, reg, err
	}
	// Which, not Export: learning the account changes nothing on disk.
	name, msgs, err := hook.Which(hook.Input{Env: hook.EnvFrom(a.env), PWD: a.wd})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		fmt.Fprintln(a.stderr, m)
	}
	if name == "" {
		return nil, nil, fmt.Errorf("no account for %s: name one, or bind this directory with: oca init ACCOUNT", a.wd)
	}
	acc, err := reg.Get(name)
	return acc, reg, err
}
