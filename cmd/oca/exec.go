package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/shells"
)

func (a *app) cmdExec(pos, rest []string) error {
	if len(rest) == 0 {
		return usagef("usage: oca exec [ACCOUNT] -- CMD [ARG...]")
	}
	acc, reg, err := a.pick(pos)
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
		fmt.Fprintln(a.stderr, "oca: "+shells.Printable(s.Error()))
	}
	env, err := a.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return err
	}
	if p, ok := env["PATH"]; ok {
		if env["PATH"], err = a.shimPath(reg.Dirs(), acc, p); err != nil {
			return err
		}
	}
	path, err := lookPath(rest[0], env["PATH"])
	if err != nil {
		return err
	}
	return syscall.Exec(path, rest, envList(env))
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
