package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newRoot builds oca's command tree for args (nil: all of it): the one
// description of every command, from which help, errors, completion and the
// README's list of commands come. `oca export` and `oca hook` run before it
// is built (see fastPath).
func (a *app) newRoot(args []string) *cobra.Command {
	a.tree = true
	root := &cobra.Command{
		Use:   "oca",
		Short: "bind project directories to OpenCode accounts",
		Long: "oca binds project directories to OpenCode accounts: a shell hook exports the\n" +
			"account of the working directory, and oca runs one OpenCode server per account.",
		Example:           "  eval \"$(oca hook bash)\"\n  oca init work\n  oca status",
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

	accounts := a.completeAccounts
	// Only the command named, when one is: its flags are most of the cost
	// of building the tree, paid at each run. Help, completion and unknown
	// words get the whole tree.
	top := []struct {
		name string
		make func() *cobra.Command
	}{
		{"hook", func() *cobra.Command {
			return &cobra.Command{
				Use:       "hook bash|zsh|fish",
				Short:     `the rc snippet: eval "$(oca hook bash)", or for fish: oca hook fish | source`,
				Example:   "  eval \"$(oca hook bash)\"     # in ~/.bashrc\n  oca hook fish | source      # in ~/.config/fish/config.fish",
				Args:      nargs(1, 1),
				ValidArgs: shellNames,
				RunE:      func(c *cobra.Command, args []string) error { return a.cmdHook(args[0]) },
			}
		}},
		{"export", func() *cobra.Command { return a.exportCmd() }},
		{"init", func() *cobra.Command { return a.initCmd(accounts) }},
		{"allow", func() *cobra.Command {
			return &cobra.Command{
				Use:     "allow [PATH]",
				Short:   "trust the nearest project file (or the one at PATH)",
				Example: "  oca allow\n  oca allow ~/code/client",
				Args:    nargs(0, 1),
				RunE:    func(c *cobra.Command, args []string) error { return a.cmdAllow(args) },
			}
		}},
		{"deny", func() *cobra.Command {
			return &cobra.Command{
				Use:     "deny [PATH]",
				Short:   "block the nearest project file (or the one at PATH)",
				Example: "  oca deny\n  oca deny ~/Downloads/repo",
				Args:    nargs(0, 1),
				RunE:    func(c *cobra.Command, args []string) error { return a.cmdDeny(args) },
			}
		}},
		{"account", func() *cobra.Command { return a.accountCmd(accounts) }},
		{"exec", func() *cobra.Command {
			return &cobra.Command{
				Use:                   "exec [ACCOUNT] -- CMD [ARG...]",
				DisableFlagsInUseLine: true,
				Short:                 "run CMD with the account's environment",
				Example:               "  oca exec work -- opencode run \"fix the tests\"\n  oca exec -- env",
				Args:                  dashArgs,
				ValidArgsFunction:     beforeDash(accounts),
				RunE: func(c *cobra.Command, args []string) error {
					pos, rest := splitDash(c, args)
					if rest == nil {
						return usagef("usage: %s (the command goes after --)", c.UseLine())
					}
					return a.cmdExec(pos, rest)
				},
			}
		}},
		{"login", func() *cobra.Command {
			return a.authCmd("login", "log the account in to a provider (OpenCode's auth login)", accounts)
		}},
		{"logout", func() *cobra.Command {
			return a.authCmd("logout", "log the account out of a provider (OpenCode's auth logout)", accounts)
		}},
		{"status", func() *cobra.Command { return a.statusCmd(accounts) }},
		{"server", func() *cobra.Command { return a.serverCmd(accounts) }},
		{"serve", func() *cobra.Command {
			return &cobra.Command{
				Use:               "serve ACCOUNT",
				Short:             "the server's supervisor, in the foreground",
				Example:           "  oca serve work",
				Args:              nargs(1, 1),
				ValidArgsFunction: accounts,
				RunE:              func(c *cobra.Command, args []string) error { return a.cmdServe(args[0]) },
			}
		}},
		{"attach", func() *cobra.Command { return a.attachCmd(accounts) }},
		{"systemd", func() *cobra.Command { return a.systemdCmd(accounts) }},
		{"compose", func() *cobra.Command { return a.composeCmd(accounts) }},
		{"doctor", func() *cobra.Command { return a.doctorCmd() }},
		{"completion", func() *cobra.Command {
			return &cobra.Command{
				Use:       "completion bash|zsh|fish",
				Short:     "print the shell's completion script",
				Example:   "  eval \"$(oca completion bash)\"\n  eval \"$(oca completion zsh)\"     # after compinit\n  oca completion fish | source",
				Args:      nargs(1, 1),
				ValidArgs: shellNames,
				RunE:      func(c *cobra.Command, args []string) error { return a.cmdCompletion(c.Root(), args[0]) },
			}
		}},
		{"version", func() *cobra.Command {
			return &cobra.Command{
				Use:     "version",
				Short:   "print oca's version",
				Example: "  oca version",
				Args:    nargs(0, 0),
				RunE:    func(c *cobra.Command, args []string) error { return a.cmdVersion() },
			}
		}},
	}
	only := ""
	if len(args) > 0 && args[0] != "completion" {
		for _, t := range top {
			if t.name == args[0] {
				only = t.name
			}
		}
	}
	for _, t := range top {
		if only == "" || t.name == only {
			root.AddCommand(t.make())
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

var shellNames = []string{"bash", "zsh", "fish"}

func (a *app) exportCmd() *cobra.Command {
	var pid int
	c := &cobra.Command{
		Use:       "export bash|zsh|fish|json",
		Short:     "what the hook evaluates, for the working directory",
		Example:   "  oca export json\n  eval \"$(oca export bash)\"",
		Args:      nargs(1, 1),
		ValidArgs: append(shellNames, "json"),
		RunE:      func(c *cobra.Command, args []string) error { return a.cmdExport(args[0], pid) },
	}
	c.Flags().IntVar(&pid, "pid", 0, "`PID` of the shell that asks (for server leases)")
	return c
}

func (a *app) initCmd(accounts completer) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:               "init [ACCOUNT]",
		Short:             "write .opencode-account.toml here, create the account if new, allow the file",
		Example:           "  oca init work\n  oca init personal --force",
		Args:              nargs(0, 1),
		ValidArgsFunction: accounts,
		RunE:              func(c *cobra.Command, args []string) error { return a.cmdInit(args, force) },
	}
	c.Flags().BoolVar(&force, "force", false, "replace an existing project file")
	return c
}

func (a *app) accountCmd(accounts completer) *cobra.Command {
	g := group("account", "add, list, show, remove or import accounts", "  oca account add work\n  oca account list")
	var add account.AddOptions
	var idle string
	addCmd := &cobra.Command{
		Use:     "add NAME",
		Short:   "add an account, with its own data home, state home, port and password",
		Example: "  oca account add work\n  oca account add ci --data-home \"$RUNNER_TEMP/oc\" --idle-timeout 0",
		Args:    nargs(1, 1),
		RunE: func(c *cobra.Command, args []string) error {
			add.IdleTimeout = idle
			return a.accountAdd(args[0], add)
		},
	}
	addCmd.Flags().IntVar(&add.Port, "port", 0, "the server's `PORT` (default: the first free one from 10001)")
	addCmd.Flags().StringVar(&add.DataHome, "data-home", "", "the account's XDG_DATA_HOME `DIR` (default: $XDG_DATA_HOME/oca/accounts/NAME)")
	addCmd.Flags().StringVar(&add.StateHome, "state-home", "", "the account's XDG_STATE_HOME `DIR` (default: $XDG_STATE_HOME/oca/homes/NAME)")
	addCmd.Flags().StringVar(&add.ConfigDir, "config-dir", "", "the account's OpenCode config layer `DIR` (default: $XDG_CONFIG_HOME/oca/accounts/NAME)")
	addCmd.Flags().StringVar(&idle, "idle-timeout", "", "stop the server after this `DURATION` unused, e.g. 30m (default 1h; 0: never)")

	var listJSON, quiet bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "list the accounts",
		Example: "  oca account list\n  oca account list --quiet",
		Args:    nargs(0, 0),
		RunE:    func(c *cobra.Command, args []string) error { return a.accountList(listJSON, quiet) },
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	list.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names alone, one a line")

	var showJSON bool
	show := &cobra.Command{
		Use:               "show [ACCOUNT]",
		Short:             "an account's port, URL, data and state homes and password file",
		Example:           "  oca account show work\n  oca account show --json",
		Args:              nargs(0, 1),
		ValidArgsFunction: accounts,
		RunE:              func(c *cobra.Command, args []string) error { return a.accountShow(args, showJSON) },
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var purge, yes bool
	remove := &cobra.Command{
		Use:               "remove ACCOUNT",
		Aliases:           []string{"rm"},
		Short:             "remove an account; its data home (credentials) and state home stay unless --purge",
		Example:           "  oca account remove old\n  oca account remove old --purge --yes",
		Args:              nargs(1, 1),
		ValidArgsFunction: accounts,
		RunE:              func(c *cobra.Command, args []string) error { return a.accountRemove(args[0], purge, yes) },
	}
	remove.Flags().BoolVar(&purge, "purge", false, "also delete the account's data home (its credentials, sessions and logs) and state home")
	remove.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before --purge deletes")

	imp := &cobra.Command{
		Use:     "import DIR...",
		Short:   "adopt ~/.opencode_accounts/NAME directories as they are",
		Example: "  oca account import ~/.opencode_accounts",
		Args:    nargs(1, -1),
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(c *cobra.Command, args []string) error { return a.accountImport(args) },
	}
	g.AddCommand(addCmd, list, show, remove, imp)
	return g
}

func (a *app) authCmd(verb, short string, accounts completer) *cobra.Command {
	use, example, args := verb+" [ACCOUNT] [-- OPENCODE-ARGS...]", "  oca "+verb+"\n  oca "+verb+" work", dashArgs
	if verb == "login" {
		// oca login work anthropic: OpenCode's --provider, no menu.
		use, example = verb+" [ACCOUNT [PROVIDER]] [-- OPENCODE-ARGS...]", example+"\n  oca login work anthropic"
		args = func(c *cobra.Command, args []string) error {
			pos, _ := splitDash(c, args)
			return nargs(0, 2)(c, pos)
		}
	}
	return &cobra.Command{
		Use:                   use,
		DisableFlagsInUseLine: true,
		Short:                 short,
		Example:               example,
		Args:                  args,
		ValidArgsFunction:     beforeDash(accounts),
		RunE: func(c *cobra.Command, args []string) error {
			pos, rest := splitDash(c, args)
			return a.authCommand(verb, pos, rest)
		},
	}
}

func (a *app) statusCmd(accounts completer) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "status [ACCOUNT...]",
		Short:             "accounts, servers (phase, pid, port, memory, uptime, restarts, clients), providers",
		Example:           "  oca status\n  oca status work --json",
		Args:              nargs(0, -1),
		ValidArgsFunction: accounts,
		RunE:              func(c *cobra.Command, args []string) error { return a.cmdStatus(args, asJSON) },
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) serverCmd(accounts completer) *cobra.Command {
	g := group("server", "start, stop, restart, wait for or read the log of an account's server", "  oca server start work\n  oca server logs work -n 20 -f")
	withTimeout := func(use, short, example string, run func(*account.Account, *account.Registry, time.Duration) error) *cobra.Command {
		var timeout time.Duration
		c := &cobra.Command{
			Use:               use + " [ACCOUNT]",
			Short:             short,
			Example:           example,
			Args:              nargs(0, 1),
			ValidArgsFunction: accounts,
			RunE: func(c *cobra.Command, args []string) error {
				acc, reg, err := a.pick(args)
				if err != nil {
					return err
				}
				return run(acc, reg, timeout)
			},
		}
		c.Flags().DurationVarP(&timeout, "timeout", "t", 60*time.Second, "how long to wait (a `DURATION`: 90s, 2m)")
		return c
	}
	start := &cobra.Command{
		Use:               "start [ACCOUNT]",
		Short:             "start the account's server, unless it runs",
		Example:           "  oca server start\n  oca server start work",
		Args:              nargs(0, 1),
		ValidArgsFunction: accounts,
		RunE: func(c *cobra.Command, args []string) error {
			acc, reg, err := a.pick(args)
			if err != nil {
				return err
			}
			return a.serverStart(reg, acc)
		},
	}
	var lines int
	var follow bool
	logs := &cobra.Command{
		Use:               "logs [ACCOUNT]",
		Short:             "print the last lines of the server's log",
		Example:           "  oca server logs work\n  oca server logs work -n 3 -f",
		Args:              nargs(0, 1),
		ValidArgsFunction: accounts,
		RunE: func(c *cobra.Command, args []string) error {
			acc, reg, err := a.pick(args)
			if err != nil {
				return err
			}
			return a.serverLogs(c.Context(), filepath.Join(reg.Dirs().RuntimeDir(acc.Name), "serve.log"), lines, follow)
		},
	}
	logs.Flags().IntVarP(&lines, "lines", "n", 40, "how many of the last `LINES` to print")
	logs.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing as the log grows")
	g.AddCommand(
		start,
		withTimeout("stop", "stop the account's server", "  oca server stop work\n  oca server stop --timeout 2m",
			func(acc *account.Account, reg *account.Registry, d time.Duration) error {
				return a.serverStop(reg, acc, d)
			}),
		withTimeout("restart", "stop the account's server, then start it", "  oca server restart work",
			func(acc *account.Account, reg *account.Registry, d time.Duration) error {
				if err := a.serverStop(reg, acc, d); err != nil {
					return err
				}
				return a.serverStart(reg, acc)
			}),
		withTimeout("wait", "wait until the account's server is ready, or say why it is not", "  oca server wait work --timeout 2m",
			func(acc *account.Account, reg *account.Registry, d time.Duration) error {
				if err := a.failingNow(reg, acc); err != nil {
					return err
				}
				return a.serverWait(reg, acc, d)
			}),
		logs,
	)
	return g
}

func (a *app) attachCmd(accounts completer) *cobra.Command {
	var timeout time.Duration
	c := &cobra.Command{
		Use:                   "attach [ACCOUNT] [flags] [-- OPENCODE-ATTACH-ARGS...]",
		DisableFlagsInUseLine: true,
		Short:                 "open OpenCode on the account's server, here, starting it",
		Example:               "  oca attach\n  oca attach work --timeout 2m",
		Args:                  dashArgs,
		ValidArgsFunction:     beforeDash(accounts),
		RunE: func(c *cobra.Command, args []string) error {
			pos, rest := splitDash(c, args)
			return a.cmdAttach(pos, rest, timeout)
		},
	}
	c.Flags().DurationVarP(&timeout, "timeout", "t", attachWait, "how long to wait for the server (a `DURATION`: 90s, 2m)")
	return c
}

func (a *app) systemdCmd(accounts completer) *cobra.Command {
	g := group("systemd", "run an account's server as a systemd user unit", "  oca systemd install work\n  oca systemd print")
	for _, sub := range []struct{ name, short string }{
		{"install", "write the unit oca@.service, enable oca@ACCOUNT"},
		{"uninstall", "disable oca@ACCOUNT; remove the unit when no account uses it"},
	} {
		g.AddCommand(&cobra.Command{
			Use:               sub.name + " [ACCOUNT]",
			Short:             sub.short,
			Example:           "  oca systemd " + sub.name + " work",
			Args:              nargs(0, 1),
			ValidArgsFunction: accounts,
			RunE:              func(c *cobra.Command, args []string) error { return a.cmdSystemd(sub.name, args) },
		})
	}
	g.AddCommand(&cobra.Command{
		Use:     "print",
		Short:   "print the unit oca@.service",
		Example: "  oca systemd print",
		Args:    nargs(0, 0),
		RunE:    func(c *cobra.Command, args []string) error { return a.cmdSystemd("print", args) },
	})
	return g
}

func (a *app) composeCmd(accounts completer) *cobra.Command {
	var image string
	c := &cobra.Command{
		Use:               "compose [ACCOUNT...]",
		Short:             "print a Docker Compose file: one server per account",
		Example:           "  oca compose > compose.yaml\n  oca compose work --image ghcr.io/anomalyco/opencode:1.18.33",
		Args:              nargs(0, -1),
		ValidArgsFunction: accounts,
		RunE:              func(c *cobra.Command, args []string) error { return a.cmdCompose(args, image) },
	}
	c.Flags().StringVar(&image, "image", "", "the OpenCode `IMAGE` (default: "+composeImage+":VERSION of the opencode installed here)")
	return c
}

func (a *app) doctorCmd() *cobra.Command {
	var asJSON, fix bool
	c := &cobra.Command{
		Use:     "doctor",
		Short:   "what is wrong with this setup, and how to mend it",
		Example: "  oca doctor\n  oca doctor --fix",
		Args:    nargs(0, 0),
		RunE:    func(c *cobra.Command, args []string) error { return a.cmdDoctor(asJSON, fix) },
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&fix, "fix", false, "mend what is safe to mend (permissions, links, stale files) and say what changed")
	return c
}

// group is a command that only holds others: run alone, it shows its help
// and fails; with an unknown word, it says so.
func group(name, short, example string) *cobra.Command {
	return &cobra.Command{
		Use:     name + " COMMAND",
		Short:   short,
		Example: example,
		Args:    noCommand,
		RunE:    groupRun,
	}
}

func groupRun(c *cobra.Command, args []string) error {
	c.SetOut(c.ErrOrStderr())
	c.Help()
	return exitError(2)
}

// noCommand is the Args of a group: any word left is no command of it.
func noCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommand(c, args[0])
}

func unknownCommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return usagef("%s; run '%s --help'", msg, c.CommandPath())
}

// nargs accepts from min to max positional arguments (max < 0: any number).
func nargs(min, max int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min || max >= 0 && len(args) > max {
			return usagef("usage: %s (see: %s --help)", c.UseLine(), c.CommandPath())
		}
		return nil
	}
}

// dashArgs is at most one ACCOUNT before a "--" and anything after it.
func dashArgs(c *cobra.Command, args []string) error {
	pos, _ := splitDash(c, args)
	return nargs(0, 1)(c, pos)
}

// splitDash splits args at the "--": rest is nil when there is none.
func splitDash(c *cobra.Command, args []string) (pos, rest []string) {
	i := c.ArgsLenAtDash()
	if i < 0 {
		return args, nil
	}
	return args[:i], append([]string{}, args[i:]...)
}

// flagError is a bad flag as a usage error, with the flags it may have meant.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	var name string
	if _, after, ok := strings.Cut(msg, "unknown flag: --"); ok {
		name = after
	} else if _, after, ok := strings.Cut(msg, "unknown shorthand flag: '"); ok {
		name, _, _ = strings.Cut(after, "'")
	}
	if name != "" {
		var near []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			if len(name) == 1 && f.Shorthand == name || len(name) > 1 && (distance(name, f.Name) <= 2 || strings.HasPrefix(f.Name, name)) {
				near = append(near, "--"+f.Name)
			}
		})
		if len(near) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(near, " or "))
		}
	}
	return usagef("%s: %s; run '%s --help'", c.CommandPath(), msg, c.CommandPath())
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// helpCommand is `oca help [COMMAND...]`: a command's help, or an error
// (with suggestions) for a word that names none.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "help [COMMAND...]",
		Short:   "help about any command",
		Example: "  oca help\n  oca help server logs",
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

// completer completes a positional argument.
type completer = func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective)

// completeAccounts offers the account names, read when TAB is pressed.
func (a *app) completeAccounts(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 && !strings.Contains(c.Use, "ACCOUNT...") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	reg, err := a.registry()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, n := range reg.Names() {
		if strings.HasPrefix(n, toComplete) && !slices.Contains(args, n) {
			names = append(names, n)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// beforeDash completes with f before a "--", and files after it (the
// command line of another program).
func beforeDash(f completer) completer {
	return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if c.ArgsLenAtDash() >= 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return f(c, args, toComplete)
	}
}
