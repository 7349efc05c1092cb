package main

// oca account rename: a command of the account group, in a file of its own.

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

type accountRenameOptions struct {
	*app
	Old, New string
	Yes      bool // stop a server with attached clients without asking
}

func newAccountRenameCmd(a *app) *cobra.Command {
	opts := &accountRenameOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "rename OLD NEW", Aliases: []string{"mv"}, Short: "rename an account; its homes move when they are oca's defaults",
		Example: examples(`oca account rename work acme`),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			return accountRenameRun(opts)
		},
	})
	c.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "stop a server with attached clients without asking")
	return c
}

// accountRenameRun stops the old name's server (asking first when clients
// are attached), renames the account with both names' supervisors locked,
// moves what is named after it, and says what stays: homes at paths of the
// user's choosing, and the project files that still name the old name.
func accountRenameRun(opts *accountRenameOptions) error {
	old, new := opts.Old, opts.New
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	acc, err := accountTo(reg, old, "rename")
	if err != nil {
		return err
	}
	// What would refuse the rename refuses it before anything stops.
	if err := reg.CheckRename(old, new); err != nil {
		return err
	}
	if n := attachedClients(dirs, acc); n > 0 && !opts.Yes {
		q := fmt.Sprintf("the server of account %s has %s attached, which would lose it: stop it and rename the account?", old, plural(n, "client"))
		refusal := fmt.Sprintf("not renaming account %s: its server has %s attached (oca status shows them); close them, or add --yes to stop it all the same", old, plural(n, "client"))
		if err := opts.confirm(q, refusal, "renamed"); err != nil {
			return err
		}
	}
	// Both names' supervisors stay locked until the account has its new
	// name and its runtime dir has moved: none starts for either meanwhile,
	// and one that takes a lock after finds the account as it is now.
	unlockOld, err := supervisor.StopAndLock(dirs.RuntimeDir(old), 30*time.Second)
	if err != nil {
		return fmt.Errorf("not renaming account %s: %w", old, err)
	}
	defer unlockOld()
	_, statErr := os.Lstat(dirs.RuntimeDir(new))
	unlockNew, err := supervisor.StopAndLock(dirs.RuntimeDir(new), 30*time.Second)
	if err != nil {
		return fmt.Errorf("not renaming account %s: %w", old, err)
	}
	defer unlockNew()
	var done *account.Renamed
	err = account.Update(dirs, func(r *account.Registry) error {
		var err error
		done, err = r.Rename(old, new)
		return err
	})
	if err != nil {
		if os.IsNotExist(statErr) {
			os.RemoveAll(dirs.RuntimeDir(new)) // made for its lock alone
		}
		return err
	}
	fmt.Fprintf(opts.stdout, "renamed account %s to %s (port %d)\n", old, new, done.New.Port)
	for _, m := range done.Homes {
		if m.Moved() {
			fmt.Fprintf(opts.stdout, "moved its %s to %s\n", m.What, dirs.Abbrev(m.To))
		} else {
			fmt.Fprintf(opts.stdout, "its %s stays at %s (a path of your choosing: not moved)\n", m.What, dirs.Abbrev(m.From))
		}
	}
	if err := account.MoveRuntime(dirs, old, new); err != nil {
		return fmt.Errorf("renamed account %s to %s, but its password and log stay in %s: %w", old, new, dirs.RuntimeDir(old), err)
	}
	if files := account.ProjectFilesNaming(dirs, old); len(files) > 0 {
		quoted := make([]string, len(files))
		for i, f := range files {
			quoted[i] = shells.Quote(f)
		}
		fmt.Fprintf(opts.stdout, "project files that still name %s (oca leaves them as they are; edit each to say account = %q, then oca allow its directory): %s\n", old, new, strings.Join(quoted, " "))
	}
	return nil
}

// supervisorOf is the pid of the account's supervisor, 0 when none runs.
func supervisorOf(dirs account.Dirs, name string) int {
	st, err := supervisor.ReadStatus(dirs.RuntimeDir(name))
	if err != nil || st.Stale {
		return 0
	}
	return st.SupervisorPID
}
