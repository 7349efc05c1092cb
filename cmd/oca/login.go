package main

// oca login and oca logout: OpenCode's own auth login and logout, run for
// an account. On OpenCode 1.x the account's supervisor sees auth.json
// change and makes its server reload the credentials; OpenCode 2's server
// keeps them itself.

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type authOptions struct {
	*app
	Verb     string // login or logout
	Account  string
	Provider string   // login's: OpenCode's --provider, no menu
	Args     []string // OpenCode's own, after "--"
}

func newLoginCmd(a *app) *cobra.Command {
	return newAuthCmd(a, "login [ACCOUNT [PROVIDER]] [-- OPENCODE-ARGS...]", "log the account in to a provider (OpenCode's auth login)",
		`oca login
		oca login work
		oca login work anthropic`)
}

func newLogoutCmd(a *app) *cobra.Command {
	return newAuthCmd(a, "logout [ACCOUNT] [-- OPENCODE-ARGS...]", "log the account out of a provider (OpenCode's auth logout)",
		`oca logout
		oca logout work`)
}

// newAuthCmd is login or logout, the verb of use: alike but for login's
// PROVIDER.
func newAuthCmd(a *app, use, short, example string) *cobra.Command {
	opts := &authOptions{app: a, Verb: strings.Fields(use)[0]}
	return a.command(&cobra.Command{
		Use: use, Short: short,
		Example: examples(example),
		RunE: func(c *cobra.Command, args []string) error {
			pos, rest := splitDash(c, args)
			opts.Account, opts.Args = first(pos), rest
			if len(pos) == 2 {
				opts.Provider = pos[1]
			}
			return authRun(opts)
		},
	})
}

// authRun replaces oca with `opencode auth VERB` in the account's
// environment. OpenCode 1.x writes auth.json (login's provider is its
// --provider). OpenCode 2 keeps credentials in its database, through its
// server (`opencode auth login [PROVIDER]`, https://opencode.ai/docs/cli/providers):
// the account's server is started and waited for first, so that the
// command finds it in the account's state home. The 2.0 preview has no
// auth command: oca says so.
func authRun(opts *authOptions) error {
	acc, reg, run, err := opts.accountOpencode(opts.Account)
	if err != nil {
		return err
	}
	v, err := opts.detect(run.Path)
	if err != nil {
		return err
	}
	args := []string{"auth", opts.Verb}
	switch {
	case v.Preview:
		return fmt.Errorf("%s is %s, which has no auth command: log %s in with OpenCode 1.x or 2 (npm install -g opencode-ai), or with the preview's own API", run.Path, v, acc.Name)
	case v.V2():
		if opts.Provider != "" {
			args = append(args, opts.Provider)
		}
		if err := opts.v2ServerFor(reg, acc); err != nil {
			return err
		}
	case opts.Provider != "":
		args = append(args, "--provider", opts.Provider)
	}
	run.Args = append(args, opts.Args...)
	return opts.runOpencode(run)
}
