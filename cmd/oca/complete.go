package main

import (
	"io"

	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

// cmdCompletion prints cobra's completion script for the shell: it asks
// `oca __complete WORDS` for candidates, so they come from the command tree
// (account names from the accounts file, when TAB is pressed).
func (a *app) cmdCompletion(root *cobra.Command, shell string) error {
	switch shell {
	case "bash":
		if _, err := io.WriteString(a.stdout, shells.BashCompletionCompat); err != nil {
			return err
		}
		return root.GenBashCompletionV2(a.stdout, true)
	case "zsh":
		return root.GenZshCompletion(a.stdout)
	case "fish":
		return root.GenFishCompletion(a.stdout, true)
	}
	return usagef("unknown shell %q (want bash, zsh or fish)", shell)
}
