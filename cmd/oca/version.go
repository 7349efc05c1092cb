package main

// oca version.

import (
	"fmt"

	"github.com/spf13/cobra"
)

// version is set at build time by install.sh (-ldflags -X main.version=...).
var version = "dev"

func newVersionCmd(a *app) *cobra.Command {
	return a.command(&cobra.Command{
		Use: "version", Short: "print oca's version",
		Example: examples(`oca version`),
		RunE: func(c *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(a.stdout, "oca %s\n", version)
			return err
		},
	})
}
