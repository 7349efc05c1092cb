package main

// oca init: bind the working directory to an account.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/projectfile"
	"github.com/spf13/cobra"
)

type initOptions struct {
	*app
	Account string // "": the user's only account
	Force   bool   // replace an existing project file
	New     bool   // create the account, new, without asking
}

func newInitCmd(a *app) *cobra.Command {
	opts := &initOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "init [ACCOUNT]", Short: "write .opencode-account.toml here, create the account if new (asking first), allow the file",
		Example: examples(`oca init work
			oca init personal --force
			oca init client-b --new`),
		RunE: func(c *cobra.Command, args []string) error { opts.Account = first(args); return initRun(opts) },
	})
	c.Flags().BoolVar(&opts.Force, "force", false, "replace an existing project file")
	c.Flags().BoolVar(&opts.New, "new", false, "create the account if it does not exist, without asking")
	return c
}

// initRun writes the project file here, creates its account when it is
// new (asking first, when the user has others: `oca init wrok` is more
// often a typo than a new account), and allows the file.
func initRun(opts *initOptions) error {
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	name := opts.Account
	switch {
	case name != "":
	case len(reg.Accounts) == 1:
		name = reg.Names()[0]
	case len(reg.Accounts) == 0:
		return usagef("name the account: oca init ACCOUNT (you have none yet; oca init NAME creates it)")
	default:
		return usagef("name the account: oca init ACCOUNT (you have %s)", strings.Join(reg.Names(), ", "))
	}
	if err := projectfile.CheckAccountName(name); err != nil {
		return err
	}
	path := filepath.Join(opts.wd, projectfile.Name)
	if _, err := os.Lstat(path); err == nil && !opts.Force {
		return fmt.Errorf("%s exists already (use --force to replace it)", path)
	}
	if _, ok := reg.Accounts[name]; !ok {
		if err := opts.confirmNew(reg, name); err != nil {
			return err
		}
		acc, err := opts.addAccount(name, account.AddOptions{})
		if err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		fmt.Fprintf(opts.stdout, "created account %s: port %d, data home %s\n", acc.Name, acc.Port, reg.Dirs().Abbrev(acc.DataHome))
	}
	content := fmt.Sprintf("# This directory uses the OpenCode account %q (see: oca account show %s).\naccount = %q\n", name, name, name)
	if err := atomicfile.Write(path, []byte(content), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "wrote %s\n", path)
	if _, err := opts.allow(path); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "allowed it: this directory now uses account %s\n", name)
	return nil
}

// confirmNew asks before init creates account name, new, when the user has
// accounts already, naming the nearest one; without a terminal it needs
// --new. A user with no account yet is not asked: there is nothing to
// have mistyped.
func (opts *initOptions) confirmNew(reg *account.Registry, name string) error {
	if opts.New || len(reg.Accounts) == 0 {
		return nil
	}
	hint := ""
	if near := nearestName(name, reg.Names()); near != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", near)
	}
	if !isTerminal(opts.stdin) {
		return usagef("you have no account %s%s; to create it, run: oca init %s --new", name, hint, name)
	}
	fmt.Fprintf(opts.stderr, "you have no account %s%s; create it? [y/N] ", name, hint)
	line, _ := bufio.NewReader(opts.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("nothing written: account %s not created", name)
}

// nearestName is the name of names nearest to name, if one is near enough
// to be a typo of it (at most two edits, fewer than name has letters);
// ties go to the first in order.
func nearestName(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := distance(name, n); d < bestD && d < len(name) {
			best, bestD = n, d
		}
	}
	return best
}
