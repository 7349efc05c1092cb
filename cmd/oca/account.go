package main

import (
	"bufio"
	"encoding/json"
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
)

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
	StateHome    string            `json:"state_home"`
	ConfigDir    string            `json:"config_dir"`
	IdleTimeout  string            `json:"idle_timeout"`
	TrustedPaths []string          `json:"trusted_paths"`
	EnvNames     []string          `json:"env,omitempty"`
	PasswordFile string            `json:"password_file"`
	Extra        map[string]string `json:"-"`
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

func (a *app) accountAdd(name string, opt account.AddOptions) error {
	acc, err := a.addAccount(name, opt)
	if err != nil {
		return err
	}
	_, dirs, _ := a.environ()
	fmt.Fprintf(a.stdout, "added account %s: port %d, data home %s\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
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

func (a *app) accountList(asJSON, quiet bool) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	if quiet {
		for _, n := range reg.Names() {
			fmt.Fprintln(a.stdout, n)
		}
		return nil
	}
	if asJSON {
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

func (a *app) accountShow(pos []string, asJSON bool) error {
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	j := describe(reg.Dirs(), acc)
	if asJSON {
		return a.writeJSON(j)
	}
	d := reg.Dirs()
	fmt.Fprintf(a.stdout, "account:       %s\n", j.Name)
	fmt.Fprintf(a.stdout, "port:          %d\n", j.Port)
	fmt.Fprintf(a.stdout, "url:           %s\n", j.URL)
	fmt.Fprintf(a.stdout, "data home:     %s\n", d.Abbrev(j.DataHome))
	fmt.Fprintf(a.stdout, "state home:    %s\n", d.Abbrev(j.StateHome))
	fmt.Fprintf(a.stdout, "config dir:    %s\n", d.Abbrev(j.ConfigDir))
	fmt.Fprintf(a.stdout, "idle timeout:  %s\n", j.IdleTimeout)
	for _, tp := range j.TrustedPaths {
		fmt.Fprintf(a.stdout, "trusted path:  %s\n", d.Abbrev(tp))
	}
	fmt.Fprintf(a.stdout, "password file: %s\n", d.Abbrev(j.PasswordFile))
	return nil
}

func (a *app) accountRemove(name string, purge, yes bool) error {
	_, dirs, err := a.environ()
	if err != nil {
		return err
	}
	reg, err := account.Load(dirs)
	if err != nil {
		return err
	}
	acc, err := reg.Get(name)
	var nf *account.NotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("no account %q to remove (see: oca account list)", name)
	}
	if err != nil {
		return err
	}
	if purge && !yes {
		if err := a.confirm(fmt.Sprintf("delete the data home of account %s, %s, with its credentials, sessions and logs, and its state home, %s?", name, acc.DataHome, acc.StateHome)); err != nil {
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
		fmt.Fprintf(a.stdout, "removed account %s; its data home (credentials, sessions) stays at %s, its state home at %s\n", acc.Name, acc.DataHome, acc.StateHome)
		fmt.Fprintf(a.stdout, "to delete them too: rm -rf %s %s\n", shells.Quote(acc.DataHome), shells.Quote(acc.StateHome))
		return nil
	}
	fmt.Fprintf(a.stdout, "removed account %s\n", acc.Name)
	deleted, err := account.Purge(rest, acc)
	for _, d := range deleted {
		fmt.Fprintf(a.stdout, "deleted %s\n", d)
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

func (a *app) accountImport(pos []string) error {
	env, dirs, err := a.environ()
	if err != nil {
		return err
	}
	first, err := firstPort(env)
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
		fmt.Fprintf(a.stdout, "imported account %s: port %d, data home %s (as it is)\n", acc.Name, acc.Port, dirs.Abbrev(acc.DataHome))
	}
	return nil
}
