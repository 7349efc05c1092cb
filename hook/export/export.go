// Package export is `oca export SHELL`, what the shell's hook runs when a
// prompt finds a new project file (or a changed one): the engine (package
// hook) for the working directory, its output spelt for the shell, the
// lease of the shell on the account it entered, and the decision to start
// the account's server.
//
// Both `oca export` (cmd/oca) and `oca-export` (cmd/oca-export, the small
// binary the hook runs where it is installed) run Run. It links no network
// code, no cobra and nothing of hook/supervisor but its state directory
// (hook/supervisor/statedir): every package a binary links runs its
// initialisation at every start, and the hook starts this one each time a
// shell enters a project. Starting a server is the caller's (Options.Start):
// oca-export hands such a run to oca whole (ErrStart), as it does one that
// must parse a file in a build that parses no TOML: Run has written
// nothing then either.
package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// ErrStart is Run's error when the account the shell entered needs its
// server started and Options.Start is nil. Run has written nothing then:
// the caller hands the whole run to one that can start it.
var ErrStart = errors.New("the account's server must be started")

// Options are one run of `oca export`.
type Options struct {
	Format string // bash, zsh, fish or json (see Args)
	PID    int    // the shell that asks, for its lease (0: none)

	Env  []string // the shell's environment
	WD   string   // the working directory, logical (see WorkDir)
	Self string   // the oca binary, for the shim's `opencode`

	Stdout, Stderr io.Writer

	// Start starts the server of acc, which a shell just entered, whose
	// project autostarts and whose supervisor's lock nobody holds. Its
	// error becomes a message. nil: Run returns ErrStart.
	Start func(dirs account.Dirs, acc *account.Account) error
}

// Args reads the words after `export` as the hook gives them: SHELL, and
// --pid PID or --pid=PID. ok is false for anything else (help, another
// flag, a bad pid, a wrong count), which the caller's command line answers.
func Args(args []string) (format string, pid int, ok bool) {
	var pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--pid" && i+1 < len(args):
			i++
			arg = "--pid=" + args[i]
			fallthrough
		case strings.HasPrefix(arg, "--pid="):
			n, err := strconv.Atoi(strings.TrimPrefix(arg, "--pid="))
			if err != nil {
				return "", 0, false
			}
			pid = n
		case strings.HasPrefix(arg, "-"):
			return "", 0, false
		default:
			pos = append(pos, arg)
		}
	}
	if len(pos) != 1 {
		return "", 0, false
	}
	return pos[0], pid, true
}

// WorkDir is the working directory as the shell names it: $PWD when it is
// the process's working directory (so a path through a symlink stays as
// the user typed it), else the real one.
func WorkDir(pwd string) string {
	cwd, err := os.Getwd()
	if err != nil {
		return pwd
	}
	if pwd != "" {
		fp, err1 := os.Stat(pwd)
		fc, err2 := os.Stat(cwd)
		if err1 == nil && err2 == nil && os.SameFile(fp, fc) {
			return pwd
		}
	}
	return cwd
}

// Run prints what the shell evaluates for o.WD: hook.Export's changes,
// spelt for the shell, or as JSON. A Format that is no shell's nor json is
// an error of shells.Get.
func Run(o Options) error {
	var sh shells.Shell
	var quote func(string) string
	if o.Format != "json" {
		var err error
		if sh, err = shells.Get(o.Format); err != nil {
			return err
		}
		quote = sh.Quote
	}
	env := hook.EnvFrom(o.Env)
	start := false // the entered account's server is to be started, by a caller that cannot
	onEnter := func(dirs account.Dirs, acc *account.Account, f *projectfile.File, pid int) error {
		stateDir := dirs.RuntimeDir(acc.Name)
		if err := account.EnsurePrivateDir(stateDir); err != nil {
			return err
		}
		if pid > 0 {
			root, err := projectfile.RealPath(filepath.Dir(f.Path))
			if err != nil {
				return err
			}
			if err := statedir.AddLease(stateDir, pid, root); err != nil {
				return err
			}
		}
		if !f.Autostart || !env.Flag("OCA_AUTOSTART", true) || acc.External {
			return nil
		}
		if held, err := statedir.LockHeld(stateDir); err != nil || held {
			return err
		}
		if o.Start == nil {
			start = true
			return nil
		}
		return o.Start(dirs, acc)
	}
	onLeave := func(dirs account.Dirs, name string, pid int) error {
		if pid <= 0 {
			return nil
		}
		return statedir.DropLease(dirs.RuntimeDir(name), pid)
	}
	out, err := hook.Export(hook.Input{Env: env, PWD: o.WD, PID: o.PID, Self: o.Self, OnEnter: onEnter, OnLeave: onLeave, Quote: quote})
	if err != nil {
		return err
	}
	if start {
		return ErrStart
	}
	for _, m := range out.Messages {
		fmt.Fprintln(o.Stderr, m)
	}
	if out.Entered != "" && !env.Flag("OCA_QUIET", false) {
		fmt.Fprintf(o.Stderr, "oca: account %s\n", out.Entered)
		for _, l := range out.Replaced {
			fmt.Fprintln(o.Stderr, l)
		}
	}
	for _, l := range out.Logins {
		fmt.Fprintln(o.Stderr, l)
	}
	if sh == nil {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	e := shells.Export{File: out.File, Shim: out.Shim}
	for _, c := range out.Changes {
		e.Vars = append(e.Vars, shells.Var{Name: c.Name, Value: c.Value, Unset: c.Unset})
	}
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
	_, err = fmt.Fprint(o.Stdout, code)
	return err
}
