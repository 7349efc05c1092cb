package main

import (
	"encoding/json"
	"fmt"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/shells"
)

func (a *app) cmdHook(shell string) error {
	sh, err := shells.Get(shell)
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

func (a *app) cmdExport(format string, pid int) error {
	var sh shells.Shell
	var quote func(string) string
	if format != "json" {
		var err error
		if sh, err = shells.Get(format); err != nil {
			return usagef("%v", err)
		}
		quote = sh.Quote
	}
	env := hook.EnvFrom(a.env)
	out, err := hook.Export(hook.Input{Env: env, PWD: a.wd, PID: pid, Self: a.self, OnEnter: a.onEnter, OnLeave: a.onLeave, Quote: quote})
	if err != nil {
		return err
	}
	for _, m := range out.Messages {
		fmt.Fprintln(a.stderr, m)
	}
	if out.Entered != "" && !env.Flag("OCA_QUIET", false) {
		fmt.Fprintf(a.stderr, "oca: account %s\n", out.Entered)
	}
	for _, l := range out.Logins {
		fmt.Fprintln(a.stderr, l)
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
