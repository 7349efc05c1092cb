package main

// oca shims: oca's `opencode` for everything that is not a hooked shell (a
// login profile's PATH, an editor started from the Dock, cron, a git hook),
// and how that shim finds its account where no hook bound the environment.

import (
	"fmt"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/projectfile"
	"github.com/spf13/cobra"
)

type shimsOptions struct{ *app }

func newShimsCmd(a *app) *cobra.Command {
	opts := &shimsOptions{app: a}
	return a.command(&cobra.Command{
		Use: "shims", Short: "make oca's shim directory (its `opencode`) and print its path, for PATH",
		Example: examples(`export PATH="$(oca shims):$PATH"`),
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, args []string) error { return shimsRun(opts) },
	})
}

// shimsRun makes sure the shim directory holds `opencode`, a link to this
// oca, and prints the directory alone on stdout.
func shimsRun(opts *shimsOptions) error {
	_, dirs, err := opts.environ()
	if err != nil {
		return err
	}
	dir, err := ensureShimDir(dirs, opts.self)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.stdout, dir)
	return err
}

// ensureShimDir makes oca's state directory and the shim directory in it,
// holding `opencode`, a link to self, and returns the shim directory.
func ensureShimDir(dirs account.Dirs, self string) (string, error) {
	if err := account.EnsurePrivateDir(dirs.State); err != nil {
		return "", err
	}
	dir := shim.Dir(dirs.State)
	if err := shim.Ensure(dir, self); err != nil {
		return "", err
	}
	return dir, nil
}

// shimBinding is the account the shim runs on, and how it was found.
type shimBinding struct {
	Name string // "": none; the plain OpenCode runs, with Plain
	// Resolved: no binding in the environment stood for this directory,
	// and the shim judged it itself; the environment is the user's own
	// (Plain), and the account's is built from it.
	Resolved bool
	Plain    hook.Env
}

// shimAccount is the account the shim runs on: the one `oca exec` (or the
// shim itself, for OpenCode's children) bound the environment to; the one a
// hooked shell bound it to, while the working directory's project file is
// the one the shell bound (a script that went elsewhere, or an editor that
// inherited the shell's environment, is judged anew); or else (a login
// profile's PATH, an editor, a script: no hook) the working directory's, by
// the same trust decision as the hook's (hook.Which). A project file that
// does not apply is said in one line on stderr, as the hook says it, and
// the shim runs the plain OpenCode with the environment before oca: never
// another account's identity.
func (a *app) shimAccount(env hook.Env) (shimBinding, error) {
	name := env["OPENCODE_ACCOUNT"]
	if name != "" && env[hook.ExecVar] != "" && env[hook.StateVar] == "" {
		return shimBinding{Name: name, Plain: env}, nil
	}
	if raw := env[hook.StateVar]; name != "" && raw != "" {
		if st, err := hook.DecodeState(raw); err == nil && st.Account == name && projectfile.Find(a.wd) == st.File {
			return shimBinding{Name: name, Plain: env}, nil
		}
	}
	b := shimBinding{Resolved: true, Plain: hook.Before(env)}
	name, msgs, err := hook.Which(hook.Input{Env: env, PWD: a.wd})
	if err != nil {
		return b, err
	}
	for _, m := range msgs {
		fmt.Fprintln(a.stderr, m)
	}
	b.Name = name
	return b, nil
}
