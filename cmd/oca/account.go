package main

// oca account: add, list, show, remove and import accounts.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

// accountJSON is an account as listings show it: never a password.
type accountJSON struct {
	Name         string   `json:"name"`
	Port         int      `json:"port"`
	URL          string   `json:"url"`
	DataHome     string   `json:"data_home"`
	StateHome    string   `json:"state_home"`
	ConfigDir    string   `json:"config_dir"`
	IdleTimeout  string   `json:"idle_timeout"`
	TrustedPaths []string `json:"trusted_paths"`
	EnvNames     []string `json:"env,omitempty"`
	PasswordFile string   `json:"password_file"`
	// The OpenCode the account runs (show only): as oca names it, and its
	// line (V1, V2, V2 preview, unknown).
	Opencode     string `json:"opencode,omitempty"`
	OpencodeLine string `json:"opencode_line,omitempty"`
}

func describe(dirs account.Dirs, acc *account.Account) accountJSON {
	j := accountJSON{
		Name: acc.Name, Port: acc.Port, URL: acc.URL(), DataHome: acc.DataHome, StateHome: acc.StateHome, ConfigDir: acc.ConfigDir,
		IdleTimeout: acc.IdleTimeout.String(), TrustedPaths: acc.TrustedPaths,
		PasswordFile: account.PasswordFile(dirs, acc.Name),
	}
	if acc.IdleTimeout == 0 {
		j.IdleTimeout = "never"
	}
	if j.TrustedPaths == nil {
		j.TrustedPaths = []string{}
	}
	for k := range acc.Env {
		j.EnvNames = append(j.EnvNames, k)
	}
	sort.Strings(j.EnvNames) // a map: its order differs from run to run
	return j
}

type accountAddOptions struct {
	*app
	Name string
	account.AddOptions
}

func newAccountAddCmd(a *app) *cobra.Command {
	opts := &accountAddOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "add NAME", Short: "add an account, with its own data home, state home, port and password",
		Example: examples(`oca account add work
			oca account add ci --data-home "$RUNNER_TEMP/oc" --idle-timeout 0`),
		RunE: func(c *cobra.Command, args []string) error { opts.Name = args[0]; return accountAddRun(opts) },
	})
	c.Flags().IntVar(&opts.Port, "port", 0, "the server's `PORT` (default: the first free one from 10001)")
	c.Flags().StringVar(&opts.DataHome, "data-home", "", "the account's XDG_DATA_HOME `DIR` (default: $XDG_DATA_HOME/oca/accounts/NAME)")
	c.Flags().StringVar(&opts.StateHome, "state-home", "", "the account's XDG_STATE_HOME `DIR` (default: $XDG_STATE_HOME/oca/homes/NAME)")
	c.Flags().StringVar(&opts.ConfigDir, "config-dir", "", "the account's OpenCode config layer `DIR` (default: $XDG_CONFIG_HOME/oca/accounts/NAME)")
	c.Flags().StringVar(&opts.IdleTimeout, "idle-timeout", "", "stop the server after this `DURATION` unused, e.g. 30m (default 1h; 0: never)")
	return c
}

func accountAddRun(opts *accountAddOptions) error {
	_, dirs, err := opts.environ()
	if err != nil {
		return err
	}
	o := opts.AddOptions
	before := leftovers(expandOr(dirs, o.ConfigDir, dirs.DefaultConfigDir(opts.Name)),
		expandOr(dirs, o.DataHome, dirs.DefaultDataHome(opts.Name)), expandOr(dirs, o.StateHome, dirs.DefaultStateHome(opts.Name)))
	acc, err := opts.addAccount(opts.Name, opts.AddOptions)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "added account %s: port %d, data home %s\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
	opts.sayLeftovers(dirs, acc, before)
	return nil
}

// firstPort is where a new account's port is looked for: $OCA_FIRST_PORT,
// or (0) the default. On a machine shared by several users, each can have
// a range of their own.
func firstPort(env hook.Env) (int, error) {
	v, ok := env["OCA_FIRST_PORT"]
	if !ok || v == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < account.MinPort || p > account.LastAllocPort {
		return 0, fmt.Errorf("OCA_FIRST_PORT=%s: want a port between %d and %d", shells.Printable(v), account.MinPort, account.LastAllocPort)
	}
	return p, nil
}

// addAccount makes an account on disk and then adds it to the registry:
// when either fails, neither is left.
func (a *app) addAccount(name string, opt account.AddOptions) (*account.Account, error) {
	env, dirs, err := a.environ()
	if err != nil {
		return nil, err
	}
	if opt.FirstPort, err = firstPort(env); err != nil {
		return nil, err
	}
	var acc *account.Account
	err = account.Update(dirs, func(r *account.Registry) error {
		var err error
		acc, err = r.Create(name, opt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

type accountListOptions struct {
	*app
	JSON  bool
	Quiet bool // the names alone
}

func newAccountListCmd(a *app) *cobra.Command {
	opts := &accountListOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "list the accounts",
		Example: examples(`oca account list
			oca account list --quiet`),
		RunE: func(c *cobra.Command, args []string) error { return accountListRun(opts) },
	})
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	c.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print the names alone, one a line")
	return c
}

func accountListRun(opts *accountListOptions) error {
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	if opts.Quiet {
		for _, n := range reg.Names() {
			fmt.Fprintln(opts.stdout, n)
		}
		return nil
	}
	if opts.JSON {
		list := []accountJSON{}
		for _, n := range reg.Names() {
			list = append(list, describe(dirs, reg.Accounts[n]))
		}
		return opts.writeJSON(list)
	}
	if len(reg.Accounts) == 0 {
		fmt.Fprintln(opts.stderr, "no accounts yet; add one with: oca account add NAME")
		return nil
	}
	tw := tabwriter.NewWriter(opts.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPORT\tDATA HOME")
	for _, n := range reg.Names() {
		acc := reg.Accounts[n]
		fmt.Fprintf(tw, "%s\t%d\t%s\n", n, acc.Port, dirs.Abbrev(acc.DataHome))
	}
	return tw.Flush()
}

type accountShowOptions struct {
	*app
	picked
	JSON bool
}

func newAccountShowCmd(a *app) *cobra.Command {
	opts := &accountShowOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "show [ACCOUNT]", Short: "an account's port, URL, data and state homes and password file",
		Example: examples(`oca account show work
			oca account show --json`),
		RunE: opts.runE(a, func() error { return accountShowRun(opts) }),
	})
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return c
}

func accountShowRun(opts *accountShowOptions) error {
	j := describe(opts.Registry.Dirs(), opts.Account)
	if real, err := opts.realOpencode(opts.Registry); err != nil {
		j.Opencode, j.OpencodeLine = "not found: "+err.Error(), "unknown"
	} else if v, err := opts.detect(real); err != nil {
		j.Opencode, j.OpencodeLine = err.Error(), "unknown"
	} else {
		j.Opencode, j.OpencodeLine = v.String(), major(v)
	}
	if opts.JSON {
		return opts.writeJSON(j)
	}
	d := opts.Registry.Dirs()
	fmt.Fprintf(opts.stdout, "account:       %s\n", j.Name)
	fmt.Fprintf(opts.stdout, "port:          %d\n", j.Port)
	fmt.Fprintf(opts.stdout, "url:           %s\n", j.URL)
	fmt.Fprintf(opts.stdout, "data home:     %s\n", d.Abbrev(j.DataHome))
	fmt.Fprintf(opts.stdout, "state home:    %s\n", d.Abbrev(j.StateHome))
	fmt.Fprintf(opts.stdout, "config dir:    %s\n", d.Abbrev(j.ConfigDir))
	fmt.Fprintf(opts.stdout, "idle timeout:  %s\n", j.IdleTimeout)
	for _, tp := range j.TrustedPaths {
		fmt.Fprintf(opts.stdout, "trusted path:  %s\n", d.Abbrev(tp))
	}
	fmt.Fprintf(opts.stdout, "password file: %s\n", d.Abbrev(j.PasswordFile))
	fmt.Fprintf(opts.stdout, "opencode:      %s (%s)\n", shells.Printable(j.Opencode), j.OpencodeLine)
	return nil
}

type accountRemoveOptions struct {
	*app
	Account string
	Purge   bool // delete its homes and the config dir oca made too
	Yes     bool // without asking
}

func newAccountRemoveCmd(a *app) *cobra.Command {
	opts := &accountRemoveOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "remove ACCOUNT", Aliases: []string{"rm"}, Short: "remove an account; its data home (credentials), state home and config dir stay unless --purge",
		Example: examples(`oca account remove old
			oca account remove old --purge --yes`),
		RunE: func(c *cobra.Command, args []string) error { opts.Account = args[0]; return accountRemoveRun(opts) },
	})
	c.Flags().BoolVar(&opts.Purge, "purge", false, "also delete the account's data home (its credentials, sessions and logs), state home, and the config dir oca made for it")
	c.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask before --purge deletes, or before stopping a server that has clients attached")
	return c
}

// accountRemoveRun stops the account's server, removes the account and,
// with Purge, deletes its homes and the config dir oca made for it. It
// says what it deleted and what it kept. A server with clients attached
// (OpenCode windows, which would lose it) is stopped only on a yes.
func accountRemoveRun(opts *accountRemoveOptions) error {
	name, purge := opts.Account, opts.Purge
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	acc, err := accountTo(reg, name, "remove")
	if err != nil {
		return err
	}
	if purge && !opts.Yes {
		q := fmt.Sprintf("delete the data home of account %s, %s, with its credentials, sessions and logs, and its state home, %s", name, acc.DataHome, acc.StateHome)
		if account.ConfigDirIsDefault(dirs, acc) {
			q += fmt.Sprintf(", and its config dir, %s", acc.ConfigDir)
		}
		if err := opts.confirm(q+"?", "not deleting without a question answered: not on a terminal; add --yes to delete all the same", "removed"); err != nil {
			return err
		}
	}
	if n := attachedClients(dirs, acc); n > 0 && !opts.Yes {
		q := fmt.Sprintf("the server of account %s has %s attached, which would lose it: stop it and remove the account?", name, plural(n, "client"))
		refusal := fmt.Sprintf("not removing account %s: its server has %s attached (oca status shows them); close them, or add --yes to stop it all the same", name, plural(n, "client"))
		if err := opts.confirm(q, refusal, "removed"); err != nil {
			return err
		}
	}
	// Its server first: once the account and its runtime directory (lock,
	// status) are gone, nothing could stop it. The supervisor's lock is
	// held until the account is gone, so that none starts meanwhile.
	unlock, err := supervisor.StopAndLock(dirs.RuntimeDir(name), 30*time.Second)
	if err != nil {
		return fmt.Errorf("not removing account %s: %w", name, err)
	}
	defer unlock()
	var rest *account.Registry
	err = account.Update(dirs, func(r *account.Registry) error {
		var err error
		acc, err = r.Remove(name)
		rest = r
		return err
	})
	if err != nil {
		return err
	}
	os.RemoveAll(dirs.RuntimeDir(acc.Name))
	out := opts.stdout
	fmt.Fprintf(out, "removed account %s\n", acc.Name)
	fmt.Fprintf(out, "deleted %s/ (its password, server status and log)\n", dirs.RuntimeDir(acc.Name))
	if !purge {
		fmt.Fprintf(out, "kept its data home (credentials, sessions): %s\n", acc.DataHome)
		fmt.Fprintf(out, "kept its state home: %s\n", acc.StateHome)
		rm := shells.Quote(acc.DataHome) + " " + shells.Quote(acc.StateHome)
		if acc.ConfigDir != "" {
			fmt.Fprintf(out, "kept its config dir (its opencode.json, plugins, MCP servers): %s\n", acc.ConfigDir)
			rm += " " + shells.Quote(acc.ConfigDir)
		}
		fmt.Fprintf(out, "an account added again as %s takes these up as they are; to delete them: rm -rf %s\n", acc.Name, rm)
		return nil
	}
	deleted, err := account.Purge(rest, acc)
	for _, d := range deleted {
		fmt.Fprintf(out, "deleted %s\n", d)
	}
	if err != nil {
		return err
	}
	d, kept, err := account.PurgeConfigDir(rest, acc)
	switch {
	case err != nil:
		return err
	case d != "":
		fmt.Fprintf(out, "deleted %s\n", d)
	case kept != "":
		fmt.Fprintf(out, "kept its config dir %s: %s; to delete it: rm -rf %s\n", acc.ConfigDir, kept, shells.Quote(acc.ConfigDir))
	}
	return nil
}

// attachedClients is how many clients (OpenCode windows, runs) of the
// user's are attached to the account's server: none for an account whose
// server runs elsewhere, which remove does not stop.
func attachedClients(dirs account.Dirs, acc *account.Account) int {
	if acc.External {
		return 0
	}
	n, _, err := supervisor.Clients(acc.Port, supervisorOf(dirs, acc.Name))
	if err != nil {
		return 0
	}
	return n
}

func plural(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case strings.HasSuffix(word, "y"):
		return strconv.Itoa(n) + " " + strings.TrimSuffix(word, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// confirm asks question on a terminal and returns nil on a yes, else
// "nothing DONE: not confirmed"; not on a terminal it refuses with
// refusal, since nobody can answer.
func (a *app) confirm(question, refusal, done string) error {
	if !isTerminal(a.stdin) {
		return errors.New(refusal)
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("nothing %s: not confirmed", done)
}

type accountImportOptions struct {
	*app
	Dirs []string // directories of data homes (~/.opencode_accounts)
}

func newAccountImportCmd(a *app) *cobra.Command {
	opts := &accountImportOptions{app: a}
	return a.command(&cobra.Command{
		Use: "import DIR...", Short: "adopt ~/.opencode_accounts/NAME directories where they are",
		Example: examples(`oca account import ~/.opencode_accounts`),
		RunE:    func(c *cobra.Command, args []string) error { opts.Dirs = args; return accountImportRun(opts) },
	})
}

// accountImportRun adopts every account directory it can, where it is:
// one it cannot (a name that is not an account name, a directory of
// another user's) is skipped in one line that names it and why, and the
// rest are imported. A data home whose mode was not 0700 is made 0700, as
// every data home is (it holds credentials), and the line says so.
func accountImportRun(opts *accountImportOptions) error {
	env, dirs, err := opts.environ()
	if err != nil {
		return err
	}
	first, err := firstPort(env)
	if err != nil {
		return err
	}
	var found []account.Found
	for _, d := range opts.Dirs {
		f, err := account.Scan(d)
		if err != nil {
			return err
		}
		found = append(found, f...)
	}
	type imported struct {
		acc  *account.Account
		mode os.FileMode // the data home's, before
	}
	var added []imported
	skipped := 0
	err = account.Update(dirs, func(r *account.Registry) error {
		for _, f := range found {
			if _, ok := r.Accounts[f.Name]; ok {
				fmt.Fprintf(opts.stderr, "oca: skipping %s: account %s exists already\n", shells.Printable(f.DataHome), f.Name)
				continue
			}
			if err := projectfile.CheckAccountName(f.Name); err != nil {
				fmt.Fprintf(opts.stderr, "oca: skipping %s: %v; rename the directory and import it again\n", shells.Printable(f.DataHome), err)
				skipped++
				continue
			}
			var mode os.FileMode
			if fi, err := os.Stat(f.DataHome); err == nil {
				mode = fi.Mode().Perm()
			}
			acc, err := r.Create(f.Name, account.AddOptions{DataHome: f.DataHome, FirstPort: first})
			if err != nil {
				fmt.Fprintf(opts.stderr, "oca: skipping %s: %v\n", shells.Printable(f.DataHome), err)
				if mode != 0 {
					_ = os.Chmod(f.DataHome, mode) // as it was
				}
				skipped++
				continue
			}
			added = append(added, imported{acc, mode})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, im := range added {
		acc := im.acc
		how := "nothing moved or copied"
		if im.mode != 0 && im.mode != 0o700 {
			how = fmt.Sprintf("made 0700, was %04o: a data home holds credentials", im.mode)
		}
		fmt.Fprintf(opts.stdout, "imported account %s: port %d, data home %s (%s)\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome), how)
	}
	if skipped > 0 {
		return fmt.Errorf("imported %s, skipped %s (named above)", plural(len(added), "account"), plural(skipped, "directory"))
	}
	return nil
}

func newAccountCmd(a *app) *cobra.Command {
	return group("account", "add, list, show, remove, import or rename accounts", `oca account add work
		oca account list`,
		newAccountAddCmd(a), newAccountListCmd(a), newAccountShowCmd(a), newAccountRemoveCmd(a), newAccountImportCmd(a), newAccountRenameCmd(a))
}
