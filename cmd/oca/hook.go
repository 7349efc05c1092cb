package main

import (
	"encoding/json"
	"fmt"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/shells"
)

func (a *app) cmdHook(args []string) error {
	fs := newFlags("hook")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: oca hook bash|zsh|fish")
	}
	sh, err := shells.Get(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	script, err := sh.Hook(a.self)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, script)
	return err
}

func (a *app) cmdExport(args []string) error {
	fs := newFlags("export")
	pid := fs.Int("pid", 0, "`PID` of the shell that asks (for server leases)")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: oca export bash|zsh|fish|json")
	}
	var sh shells.Shell
	if pos[0] != "json" {
		if sh, err = shells.Get(pos[0]); err != nil {
			return usagef("%v", err)
		}
	}
	env := hook.EnvFrom(a.env)
	out, err := hook.Export(hook.Input{Env: env, PWD: a.wd, PID: *pid, Self: a.self, OnEnter: a.onEnter, OnLeave: a.onLeave})
	if err != nil {
		return err
	}
	for _, m := range out.Messages {
		fmt.Fprintln(a.stderr, m)
	}
	if out.Entered != "" && env["OCA_QUIET"] == "" {
		fmt.Fprintf(a.stderr, "oca: account %s\n", out.Entered)
	}
	if sh == nil {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	e := shells.Export{}
	for _, c := range out.Changes {
		e.Vars = append(e.Vars, shells.Var{Name: c.Name, Value: c.Value, Unset: c.Unset})
	}
	e.File, e.Shim = out.File, out.Shim
	for _, u := range out.Undo {
		set := "0"
		if u.Set {
			set = "1"
		}
		e.Undo = append(e.Undo, u.Name, u.Applied, set, u.Prev)
	}
	for _, w := range out.Watch {
		e.Watch = append(e.Watch, w.Path, w.Stamp)
	}
	code, err := sh.Spell(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, code)
	return err
}
