package main

import (
	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/shim"
)

// environ returns the invocation's environment as it was before oca changed
// it, and the user's directories, derived from that.
func (a *app) environ() (hook.Env, account.Dirs, error) {
	orig := hook.Before(hook.EnvFrom(a.env))
	dirs, err := account.DirsFrom(func(k string) string { return orig[k] })
	if p, ok := orig["PATH"]; ok && err == nil {
		orig["PATH"] = shim.Strip(p, shim.Dir(dirs.State)) // oca's shim is oca's change too
	}
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
