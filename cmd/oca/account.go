package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/server"
	"github.com/oca-sh/oca/shells"
)

func (a *app) cmdAccount(args []string) error {
	if len(args) == 0 {
		return usagef("usage: oca account add|list|show|remove|import ...")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		return a.accountAdd(args)
	case "list", "ls":
		return a.accountList(args)
	case "show":
		return a.accountShow(args)
	case "remove", "rm":
		return a.accountRemove(args)
	case "import":
		return a.accountImport(args)
	}
	return usagef("unknown account command %q (want add, list, show, remove or import)", sub)
}

func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// accountJSON is an account as listings show it: never a password.
type accountJSON struct {
	Name         string            `json:"name"`
	Port         int               `json:"port"`
	URL          string            `json:"url"`
	DataHome     string            `json:"data_home"`
	ConfigDir    string            `json:"config_dir"`
	IdleTimeout  string            `json:"idle_timeout"`
	TrustedPaths []string          `json:"trusted_paths"`
	EnvNames     []string          `json:"env,omitempty"`
	PasswordFile string            `json:"password_file"`
	Extra        map[string]string `json:"-"`
}

func describe(dirs account.Dirs, acc *account.Account) accountJSON {
	j := accountJSON{
		Name: acc.Name, Port: acc.Port, URL: acc.URL(), DataHome: acc.DataHome, ConfigDir: acc.ConfigDir,
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

func (a *app) accountAdd(args []string) error {
	fs := newFlags("account add")
	port := fs.Int("port", 0, "the server's `PORT` (default: the first free one from 10001)")
	home := fs.String("data-home", "", "the account's XDG_DATA_HOME `DIR` (default: $XDG_DATA_HOME/oca/accounts/NAME)")
	idle := fs.String("idle-timeout", "", "stop the server after this long unused, e.g. 30m (default 1h; 0: never)")
	cdir := fs.String("config-dir", "", "the account's OpenCode config layer `DIR` (default: $XDG_CONFIG_HOME/oca/accounts/NAME)")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: oca account add NAME [--port N] [--data-home DIR] [--config-dir DIR] [--idle-timeout D]")
	}
	acc, err := a.addAccount(pos[0], account.AddOptions{Port: *port, DataHome: *home, ConfigDir: *cdir, IdleTimeout: *idle})
	if err != nil {
		return err
	}
	_, dirs, _ := a.environ()
	fmt.Fprintf(a.stdout, "added account %s: port %d, data home %s\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
	return nil
}

// addAccount makes an account on disk and then adds it to the registry:
// when either fails, neither is left.
func (a *app) addAccount(name string, opt account.AddOptions) (*account.Account, error) {
	_, dirs, err := a.environ()
	if err != nil {
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

func (a *app) accountList(args []string) error {
	fs := newFlags("account list")
	asJSON := fs.Bool("json", false, "print JSON")
	quiet := fs.Bool("quiet", false, "print the names alone, one a line")
	fs.BoolVar(quiet, "q", false, "short for --quiet")
	if _, _, err := a.parse(fs, args); err != nil {
		return err
	}
	reg, err := a.registry()
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	if *quiet {
		for _, n := range reg.Names() {
			fmt.Fprintln(a.stdout, n)
		}
		return nil
	}
	if *asJSON {
		list := []accountJSON{}
		for _, n := range reg.Names() {
			list = append(list, describe(dirs, reg.Accounts[n]))
		}
		return a.writeJSON(list)
	}
	if len(reg.Accounts) == 0 {
		fmt.Fprintln(a.stderr, "no accounts yet; add one with: oca account add NAME")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPORT\tDATA HOME")
	for _, n := range reg.Names() {
		acc := reg.Accounts[n]
		fmt.Fprintf(tw, "%s\t%d\t%s\n", n, acc.Port, dirs.Abbrev(acc.DataHome))
	}
	return tw.Flush()
}

func (a *app) accountShow(args []string) error {
	fs := newFlags("account show")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("usage: oca account show [NAME] [--json]")
	}
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	j := describe(reg.Dirs(), acc)
	if *asJSON {
		return a.writeJSON(j)
	}
	d := reg.Dirs()
	fmt.Fprintf(a.stdout, "account:       %s\n", j.Name)
	fmt.Fprintf(a.stdout, "port:          %d\n", j.Port)
	fmt.Fprintf(a.stdout, "url:           %s\n", j.URL)
	fmt.Fprintf(a.stdout, "data home:     %s\n", d.Abbrev(j.DataHome))
	fmt.Fprintf(a.stdout, "config dir:    %s\n", d.Abbrev(j.ConfigDir))
	fmt.Fprintf(a.stdout, "idle timeout:  %s\n", j.IdleTimeout)
	for _, tp := range j.TrustedPaths {
		fmt.Fprintf(a.stdout, "trusted path:  %s\n", d.Abbrev(tp))
	}
	fmt.Fprintf(a.stdout, "password file: %s\n", d.Abbrev(j.PasswordFile))
	return nil
}

func (a *app) accountRemove(args []string) error {
	fs := newFlags("account remove")
	purge := fs.Bool("purge", false, "also delete the account's data home: its credentials, sessions and logs")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: oca account remove NAME [--purge]")
	}
	_, dirs, err := a.environ()
	if err != nil {
		return err
	}
	// Its server first: once the account and its runtime directory (lock,
	// status) are gone, nothing could stop it. The supervisor's lock is
	// held until the account is gone, so that none starts meanwhile.
	if reg, err := account.Load(dirs); err == nil && reg.Accounts[pos[0]] != nil {
		unlock, err := server.StopAndLock(dirs.RuntimeDir(pos[0]), 30*time.Second)
		if err != nil {
			return fmt.Errorf("not removing account %s: %w", pos[0], err)
		}
		defer unlock()
	}
	var acc *account.Account
	var rest *account.Registry
	err = account.Update(dirs, func(r *account.Registry) error {
		var err error
		acc, err = r.Remove(pos[0])
		rest = r
		return err
	})
	if err != nil {
		return err
	}
	os.RemoveAll(dirs.RuntimeDir(acc.Name))
	if !*purge {
		fmt.Fprintf(a.stdout, "removed account %s; its data home (credentials, sessions) stays at %s\n", acc.Name, acc.DataHome)
		fmt.Fprintf(a.stdout, "to delete it too: rm -rf %s\n", shells.Quote(acc.DataHome))
		return nil
	}
	fmt.Fprintf(a.stdout, "removed account %s\n", acc.Name)
	deleted, err := account.Purge(rest, acc)
	for _, d := range deleted {
		fmt.Fprintf(a.stdout, "deleted %s\n", d)
	}
	return err
}

func (a *app) accountImport(args []string) error {
	fs := newFlags("account import")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("usage: oca account import DIR... (e.g. ~/.opencode_accounts)")
	}
	_, dirs, err := a.environ()
	if err != nil {
		return err
	}
	var found []account.Found
	for _, d := range pos {
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
				fmt.Fprintf(a.stderr, "oca: skipping %s: account %s exists already\n", f.DataHome, f.Name)
				continue
			}
			acc, err := r.Create(f.Name, account.AddOptions{DataHome: f.DataHome})
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
		fmt.Fprintf(a.stdout, "imported account %s: port %d, data home %s (as it is)\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
	}
	return nil
}
