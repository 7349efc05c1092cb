package main

// The code a project's own OpenCode config brings (plugins, tools, MCP
// servers, provider URLs): named by `oca allow`, recorded with the allow,
// and checked before a client attaches, since the account's server is
// shared by all its projects and keeps what one of them loaded.

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// projectCode is the code the project of file brings for a client in the
// working directory, with the directories it was looked for in.
func (a *app) projectCode(file string) (items []projectfile.CodeItem, dirs []string, err error) {
	root := filepath.Dir(file)
	items, err = projectfile.ProjectCode(root, a.wd)
	return items, projectfile.CodeDirs(root, a.wd), err
}

// sayProjectCode names what allowing the project lets it do.
func (a *app) sayProjectCode(name string, items []projectfile.CodeItem) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(a.stdout, "its OpenCode config brings code and endpoints, which account %s's server runs and uses for every project of the account until it stops:\n", name)
	for _, it := range items {
		fmt.Fprintf(a.stdout, "  %s\n", it.What)
	}
}

// checkProjectCode refuses a client in dir of an allowed project whose
// OpenCode code changed since it was allowed (or was allowed before oca
// recorded it), in one line: what changed, and `oca allow`. A project
// below one of the account's trusted_paths is the user's own, and not
// checked.
func (a *app) checkProjectCode(reg *account.Registry, dir string) error {
	found := projectfile.Find(dir)
	if found == "" {
		return nil
	}
	trust, err := a.trustStore()
	if err != nil {
		return err
	}
	j, err := trust.Judge(found, reg.TrustedPaths)
	if err != nil || j.Verdict != projectfile.Allowed {
		return nil
	}
	root := filepath.Dir(found)
	now, err := projectfile.ProjectCode(root, dir)
	if err != nil {
		return err
	}
	recorded, ok := trust.RecordedCode(found)
	changes := projectfile.CodeChanges(recorded, now)
	if len(changes) == 0 {
		return nil
	}
	since := "changed since you allowed it"
	if !ok {
		since = "was allowed before oca recorded it"
	}
	return fmt.Errorf("not attaching: the OpenCode code of project %s %s (%s), and account %s's server would run it for all its projects; review it, then run: oca allow %s",
		root, since, strings.Join(changes, "; "), j.File.Account, shells.Quote(root))
}

// clientDir is the directory a client's arguments name (--dir DIR), or def.
func clientDir(args []string, def string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--dir" {
			if filepath.IsAbs(args[i+1]) {
				return args[i+1]
			}
			return filepath.Join(def, args[i+1])
		}
	}
	return def
}
