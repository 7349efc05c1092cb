package main

// oca completion: the shells' completion scripts.

import (
	"io"

	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

type completionOptions struct {
	*app
	Shell string
	Root  *cobra.Command // the tree the script completes
}

func newCompletionCmd(a *app) *cobra.Command {
	opts := &completionOptions{app: a}
	return a.command(&cobra.Command{
		Use: "completion bash|zsh|fish", Short: "print the shell's completion script",
		Example: examples(`eval "$(oca completion bash)"
			eval "$(oca completion zsh)"     # after compinit
			oca completion fish | source`),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Shell, opts.Root = args[0], c.Root()
			return completionRun(opts)
		},
	})
}

// completionRun prints cobra's completion script for the shell: it asks
// `oca __complete WORDS` for candidates, so they come from the command tree
// (account names from the accounts file, when TAB is pressed).
func completionRun(opts *completionOptions) error {
	out := opts.stdout
	switch opts.Shell {
	case "bash":
		if _, err := io.WriteString(out, shells.BashCompletionCompat); err != nil {
			return err
		}
		return opts.Root.GenBashCompletionV2(out, true)
	case "zsh":
		return opts.Root.GenZshCompletion(out)
	case "fish":
		return opts.Root.GenFishCompletion(out, true)
	}
	return usagef("unknown shell %q (want bash, zsh or fish)", opts.Shell)
}
