package main

// What the commands share: errors and exit statuses, the checks of
// positional arguments, groups, completion of account names, and output.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// exitError carries an exit status through without a message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// statusError is an error said in one line with an exit status of its
// own: 127 for a command not found, 126 for one that cannot run, as shells
// and env(1) have them.
type statusError struct {
	code int
	err  error
}

func (e statusError) Error() string { return e.err.Error() }
func (e statusError) Unwrap() error { return e.err }

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// fail prints err as one line and returns the exit status.
func (a *app) fail(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "oca: %s\n", shells.Printable(ue.msg))
		return 2
	}
	fmt.Fprintf(a.stderr, "oca: %s\n", shells.Printable(strings.ReplaceAll(err.Error(), "\n", " ")))
	if se := (statusError{}); errors.As(err, &se) {
		return se.code
	}
	return 1
}

// group is a command that only holds others: run alone, it shows its help
// and fails; with an unknown word, it says so.
func group(name, short, example string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use: name + " COMMAND", Short: short,
		Example: examples(example),
		Args:    noCommand,
		RunE:    groupRun,
	}
	g.AddCommand(subs...)
	return g
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

// command completes the definition of c from its usage line, c.Use: how
// many words it takes, and how TAB completes them, so that the two never
// disagree with what help shows. The words before a "--" (or all, without
// one) count: NAME or ACCOUNT is one, [ACCOUNT] one at most, [ACCOUNT
// [PROVIDER]] two at most, DIR... one or more, [ACCOUNT...] any number.
// An ACCOUNT completes to account names, a DIR to directories, and
// bash|zsh|fish to those words; the words after a "--" are another
// program's, completed as files.
func (a *app) command(c *cobra.Command) *cobra.Command {
	words := strings.Fields(c.Use)[1:]
	dash := slices.IndexFunc(words, func(w string) bool { return strings.HasPrefix(strings.TrimLeft(w, "["), "--") })
	if dash >= 0 {
		words = words[:dash]
		c.DisableFlagsInUseLine = true
	}
	words = slices.DeleteFunc(words, func(w string) bool { return w == "[flags]" })
	min, max, depth := 0, len(words), 0
	for _, w := range words {
		depth += strings.Count(w, "[")
		if depth == 0 {
			min++
		}
		if strings.Contains(w, "...") {
			max = -1
		}
		depth -= strings.Count(w, "]")
	}
	count := nargs(min, max)
	c.Args = count
	if dash >= 0 {
		c.Args = func(c *cobra.Command, args []string) error {
			pos, _ := splitDash(c, args)
			return count(c, pos)
		}
	}
	first := ""
	if len(words) > 0 {
		first = strings.Trim(words[0], "[].")
	}
	switch {
	case first == "ACCOUNT" && dash >= 0:
		c.ValidArgsFunction = beforeDash(a.completeAccounts)
	case first == "ACCOUNT":
		c.ValidArgsFunction = a.completeAccounts
	case first == "DIR":
		c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
	case strings.Contains(first, "|"):
		c.ValidArgs = strings.Split(first, "|")
	}
	return c
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

// splitDash splits args at the "--": rest is nil when there is none.
func splitDash(c *cobra.Command, args []string) (pos, rest []string) {
	i := c.ArgsLenAtDash()
	if i < 0 {
		return args, nil
	}
	return args[:i], append([]string{}, args[i:]...)
}

// first is the first of args, "" for none: the ACCOUNT of a command that
// defaults to the working directory's.
func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
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
	// "oca: server stop: ...", not "oca: oca server stop: ...".
	if c.HasParent() {
		msg = strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ") + ": " + msg
	}
	return usagef("%s; run '%s --help'", msg, c.CommandPath())
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

func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether f (a stream) is a terminal: a character
// device such as /dev/null is not.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}

// examples is a command's examples, one a line, as help shows them: each
// indented by two spaces. The lines may be indented as the code around
// them is.
func examples(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, "  "+l)
		}
	}
	return strings.Join(lines, "\n")
}

// timeoutFlag is a --timeout: a bare number of seconds (60), as timeout(1)
// takes it, or a duration (90s, 2m). 0 (its default, unless def is given)
// is the account's start_timeout.
type timeoutFlag struct{ d *time.Duration }

func (f timeoutFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f timeoutFlag) Set(s string) error {
	d, err := account.Seconds(s)
	if err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("%q: a timeout above 0, in seconds (60) or as a duration (90s, 2m)", s)
	}
	*f.d = d
	return nil
}

func (f timeoutFlag) Type() string { return "seconds" }

// addTimeout defines --timeout/-t on c into p, with the default def (0: the
// account's start_timeout).
func addTimeout(c *cobra.Command, p *time.Duration, def time.Duration, what string) {
	*p = def
	usage := what + " (`SECONDS`, or a duration: 90s, 2m)"
	if def == 0 {
		usage += "; default: the account's start_timeout (" + account.DefaultStartTimeout.String() + " unless set)"
	}
	c.Flags().VarP(timeoutFlag{p}, "timeout", "t", usage)
}
