package main

import (
	"fmt"
	"os/exec"
	"strings"

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

// accountEnv is the invocation's environment as it was before oca changed
// it, plus the account's variables and its own env table.
func (a *app) accountEnv(dirs account.Dirs, acc *account.Account) (hook.Env, error) {
	if err := account.Prepare(dirs, acc); err != nil {
		return nil, err
	}
	pw, err := account.Password(dirs, acc.Name)
	if err != nil {
		return nil, err
	}
	return hook.Environ(hook.EnvFrom(a.env), acc, pw), nil
}

func envList(env hook.Env) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	return list
}

// lookPath finds cmd on the given PATH (the account's, not oca's own).
func lookPath(cmd, path string) (string, error) {
	if strings.Contains(cmd, "/") {
		return cmd, nil
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + cmd
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found on PATH", cmd)
}
