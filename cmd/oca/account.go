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
	acc, err := opts.addAccount(opts.Name, opts.AddOptions)
	if err != nil {
		return err
	}
	_, dirs, _ := opts.environ()
	fmt.Fprintf(opts.stdout, "added account %s: port %d, data home %s\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
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
	return nil
}

type accountRemoveOptions struct {
	*app
	Account string
	Purge   bool // delete its data home too
	Yes     bool // without asking
}

func newAccountRemoveCmd(a *app) *cobra.Command {
	opts := &accountRemoveOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "remove ACCOUNT", Aliases: []string{"rm"}, Short: "remove an account; its data home (credentials) and state home stay unless --purge",
		Example: examples(`oca account remove old
			oca account remove old --purge --yes`),
		RunE: func(c *cobra.Command, args []string) error { opts.Account = args[0]; return accountRemoveRun(opts) },
	})
	c.Flags().BoolVar(&opts.Purge, "purge", false, "also delete the account's data home (its credentials, sessions and logs) and state home")
	c.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask before --purge deletes")
	return c
}

// accountRemoveRun stops the account's server, removes the account and,
// with Purge, deletes its data home.
func accountRemoveRun(opts *accountRemoveOptions) error {
	name, purge := opts.Account, opts.Purge
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	acc, err := reg.Get(name)
	var nf *account.NotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("no account %q to remove (see: oca account list)", name)
	}
	if err != nil {
		return err
	}
	if purge && !opts.Yes {
		if err := opts.confirm(fmt.Sprintf("delete the data home of account %s, %s, with its credentials, sessions and logs, and its state home, %s?", name, acc.DataHome, acc.StateHome)); err != nil {
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
	if !purge {
		fmt.Fprintf(opts.stdout, "removed account %s; its data home (credentials, sessions) stays at %s, its state home at %s\n", acc.Name, acc.DataHome, acc.StateHome)
		fmt.Fprintf(opts.stdout, "to delete them too: rm -rf %s %s\n", shells.Quote(acc.DataHome), shells.Quote(acc.StateHome))
		return nil
	}
	fmt.Fprintf(opts.stdout, "removed account %s\n", acc.Name)
	deleted, err := account.Purge(rest, acc)
	for _, d := range deleted {
		fmt.Fprintf(opts.stdout, "deleted %s\n", d)
	}
	return err
}

// confirm asks question on a terminal and returns nil on a yes; not on a
// terminal it refuses, since nobody can answer.
func (a *app) confirm(question string) error {
	if !isTerminal(a.stdin) {
		return errors.New("not deleting without a question answered: not on a terminal; add --yes to delete all the same")
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("nothing removed: not confirmed")
}

type accountImportOptions struct {
	*app
	Dirs []string // directories of data homes (~/.opencode_accounts)
}

func newAccountImportCmd(a *app) *cobra.Command {
	opts := &accountImportOptions{app: a}
	return a.command(&cobra.Command{
		Use: "import DIR...", Short: "adopt ~/.opencode_accounts/NAME directories as they are",
		Example: examples(`oca account import ~/.opencode_accounts`),
		RunE:    func(c *cobra.Command, args []string) error { opts.Dirs = args; return accountImportRun(opts) },
	})
}

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
	var added []*account.Account
	err = account.Update(dirs, func(r *account.Registry) error {
		for _, f := range found {
			if _, ok := r.Accounts[f.Name]; ok {
				fmt.Fprintf(opts.stderr, "oca: skipping %s: account %s exists already\n", f.DataHome, f.Name)
				continue
			}
			acc, err := r.Create(f.Name, account.AddOptions{DataHome: f.DataHome, FirstPort: first})
			if err != nil {
				return fmt.Errorf("importing %s: %w", f.DataHome, err)
			}
			added = append(added, acc)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, acc := range added {
		fmt.Fprintf(opts.stdout, "imported account %s: port %d, data home %s (as it is)\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
	}
	return nil
}

func newAccountCmd(a *app) *cobra.Command {
	return group("account", "add, list, show, remove, import or rename accounts", `oca account add work
		oca account list`,
		newAccountAddCmd(a), newAccountListCmd(a), newAccountShowCmd(a), newAccountRemoveCmd(a), newAccountImportCmd(a), newAccountRenameCmd(a))
}
