package main

import (
	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
)

// environ returns the invocation's environment as it was before oca changed
// it, and the user's directories, derived from that.
func (a *app) environ() (hook.Env, account.Dirs, error) {
	orig := hook.Before(hook.EnvFrom(a.env))
	dirs, err := account.DirsFrom(func(k string) string { return orig[k] })
	return orig, dirs, err
}

// registry loads the accounts file.
func (a *app) registry() (*account.Registry, error) {
	_, dirs, err := a.environ()
	if err != nil {
		return nil, err
	}
	return account.Load(dirs)
}
