package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
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

// versionCache is where oca keeps which OpenCode each binary is
// (opencode.Detect): $XDG_STATE_HOME/oca/versions.json.
func versionCache(dirs account.Dirs) string { return filepath.Join(dirs.State, "versions.json") }

// detector is which OpenCode the binary at bin is, asked as
// opencode.Detect asks, in the user's environment as it was before oca
// (never an account's), and cached in oca's state directory: once per
// binary, then a stat and a small read. Never on the prompt's path.
func (a *app) detector(bin string) func() (opencode.Version, error) {
	orig, dirs, err := a.environ()
	if err != nil {
		return func() (opencode.Version, error) { return opencode.Version{}, err }
	}
	base, cache := envList(orig), versionCache(dirs)
	return func() (opencode.Version, error) {
		if err := account.EnsurePrivateDir(dirs.State); err != nil {
			return opencode.Version{}, err
		}
		return opencode.Detect(bin, cache, base)
	}
}

// detect is which OpenCode the binary at bin is (see detector).
func (a *app) detect(bin string) (opencode.Version, error) { return a.detector(bin)() }

// major names an OpenCode's line as the README's table does: V1, V2, the
// V2 preview, or unknown.
func major(v opencode.Version) string {
	switch {
	case v.Preview:
		return "V2 preview"
	case v.V2():
		return "V2"
	case v.Known():
		return "V1"
	}
	return "unknown"
}
