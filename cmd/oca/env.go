package main

import (
	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
)

// environ returns the invocation's environment and the user's directories,
// derived from the environment as it was before oca changed it.
func (a *app) environ() (hook.Env, account.Dirs, error) {
	env := hook.EnvFrom(a.env)
	var st *hook.State
	if raw := env[hook.StateVar]; raw != "" {
		st, _ = hook.DecodeState(raw)
	}
	orig := hook.Original(env, st)
	dirs, err := account.DirsFrom(func(k string) string { return orig[k] })
	return env, dirs, err
}

// registry loads the accounts file.
func (a *app) registry() (*account.Registry, error) {
	_, dirs, err := a.environ()
	if err != nil {
		return nil, err
	}
	return account.Load(dirs)
}
