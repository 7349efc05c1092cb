package main

import (
	"strings"

	"github.com/oca-sh/oca/hook/export"
	"github.com/spf13/cobra"
)

// run runs the command line args and returns the exit status.
func (a *app) run(args []string) int {
	if code, ok := a.fastPath(args); ok {
		return code
	}
	root := a.newRoot(args)
	root.SetArgs(args)
	return a.fail(root.Execute())
}

// fastPath runs `oca export` and `oca hook` as the shell's hook calls them,
// without building the command tree: they run at prompts. Anything else
// about them (help, a bad flag, a wrong count) goes to the tree, which runs
// the same code.
func (a *app) fastPath(args []string) (int, bool) {
	switch {
	case len(args) == 2 && args[0] == "hook" && !strings.HasPrefix(args[1], "-"):
		return a.fail(hookScriptRun(&hookOptions{app: a, Shell: args[1]})), true
	case len(args) > 1 && args[0] == "export":
		if format, pid, ok := export.Args(args[1:]); ok {
			return a.fail(exportRun(&exportOptions{app: a, Format: format, PID: pid})), true
		}
	}
	return 0, false
}

// commands are oca's commands, in the order of help and the README, each
// with the function that defines it (in the file of its group).
func commands() []struct {
	name string
	make func(*app) *cobra.Command
} {
	return []struct {
		name string
		make func(*app) *cobra.Command
	}{
		{"hook", newHookCmd},
		{"export", newExportCmd},
		{"init", newInitCmd},
		{"allow", newAllowCmd},
		{"deny", newDenyCmd},
		{"account", newAccountCmd},
		{"exec", newExecCmd},
		{"shims", newShimsCmd},
		{"login", newLoginCmd},
		{"logout", newLogoutCmd},
		{"status", newStatusCmd},
		{"server", newServerCmd},
		{"serve", newServeCmd},
		{"attach", newAttachCmd},
		{"systemd", newSystemdCmd},
		{"compose", newComposeCmd},
		{"doctor", newDoctorCmd},
		{"completion", newCompletionCmd},
		{"version", newVersionCmd},
	}
}

// newRoot builds oca's command tree for args (nil: all of it): the one
// description of every command, from which help, errors, completion and the
// README's list of commands come. `oca export` and `oca hook` run before it
// is built (see fastPath).
func (a *app) newRoot(args []string) *cobra.Command {
	a.tree = true
	root := &cobra.Command{
		Use: "oca", Short: "bind project directories to OpenCode accounts",
		Long: "oca binds project directories to OpenCode accounts: a shell hook exports the\n" +
			"account of the working directory, and oca runs one OpenCode server per account.",
		Example: examples(`eval "$(oca hook bash)"
			oca init work
			oca status`),
		Args:              noCommand,
		RunE:              groupRun,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	// In the order written here, in help as in the README.
	cobra.EnableCommandSorting = false
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(helpCommand())

	// Only the command named, when one is: its flags are most of the cost
	// of building the tree, paid at each run. Help, completion and unknown
	// words get the whole tree.
	all := commands()
	only := ""
	if len(args) > 0 && args[0] != "completion" {
		for _, c := range all {
			if c.name == args[0] {
				only = c.name
			}
		}
	}
	for _, c := range all {
		if only == "" || c.name == only {
			root.AddCommand(c.make(a))
		}
	}
	var unsort func(c *cobra.Command)
	unsort = func(c *cobra.Command) {
		c.Flags().SortFlags = false
		for _, sub := range c.Commands() {
			unsort(sub)
		}
	}
	unsort(root)
	return root
}

// helpCommand is `oca help [COMMAND...]`: a command's help, or an error
// (with suggestions) for a word that names none.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use: "help [COMMAND...]", Short: "help about any command",
		Example: examples(`oca help
			oca help server logs`),
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name()+"\t"+sub.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd := c.Root()
			for _, word := range args {
				var next *cobra.Command
				for _, sub := range cmd.Commands() {
					if sub.Name() == word || sub.HasAlias(word) {
						next = sub
					}
				}
				if next == nil {
					return unknownCommand(cmd, word)
				}
				cmd = next
			}
			return cmd.Help()
		},
	}
}
