package main

// oca login and oca logout: OpenCode's own auth login and logout, run for
// an account. The account's supervisor sees auth.json change and makes its
// server reload the credentials.

import (
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
// environment.
func authRun(opts *authOptions) error {
	args := []string{"auth", opts.Verb}
	if opts.Provider != "" {
		args = append(args, "--provider", opts.Provider)
	}
	args = append(args, opts.Args...)
	_, _, run, err := opts.accountOpencode(opts.Account)
	if err != nil {
		return err
	}
	run.Args = args
	return opts.runOpencode(run)
}
