// Package account is the user's registry of OpenCode accounts: the accounts
// file ($XDG_CONFIG_HOME/oca/accounts.toml), each account's data home and
// state home with their links to the user's real ones, and its server
// password.
package account

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/internal/safepath"
)

// Dirs are the directories oca works from. They are derived from the
// environment as it was before oca changed it, never from a value oca
// exported: Data is the user's real XDG_DATA_HOME even inside a project.
type Dirs struct {
	Home   string // $HOME
	Config string // $XDG_CONFIG_HOME/oca
	State  string // $XDG_STATE_HOME/oca: trust records, stamps, per-account runtime files
	Data   string // the user's real $XDG_DATA_HOME
}

// DirsFrom derives Dirs from getenv, which must answer with the user's own
// values (the hook passes one that sees through oca's changes).
func DirsFrom(getenv func(string) string) (Dirs, error) {
	home := getenv("HOME")
	if home == "" || !filepath.IsAbs(home) {
		return Dirs{}, errors.New("HOME is not set to an absolute path")
	}
	xdg := func(name, def string) string {
		if v := getenv(name); filepath.IsAbs(v) {
			return filepath.Clean(v)
		}
		return filepath.Join(home, def)
	}
	return Dirs{
		Home:   filepath.Clean(home),
		Config: filepath.Join(xdg("XDG_CONFIG_HOME", ".config"), "oca"),
		State:  filepath.Join(xdg("XDG_STATE_HOME", ".local/state"), "oca"),
		Data:   xdg("XDG_DATA_HOME", ".local/share"),
	}, nil
}

// AccountsFile is the path of accounts.toml.
func (d Dirs) AccountsFile() string { return filepath.Join(d.Config, "accounts.toml") }

// TrustDir holds allow and deny records.
func (d Dirs) TrustDir() string { return filepath.Join(d.State, "trust") }

// StampDir holds the hook's mtime stamps.
func (d Dirs) StampDir() string { return filepath.Join(d.State, "stamps") }

// RuntimeDir is where an account's password, lock, status and log live.
func (d Dirs) RuntimeDir(name string) string { return filepath.Join(d.State, "accounts", name) }

// DefaultDataHome is where a new account's data home goes.
func (d Dirs) DefaultDataHome(name string) string {
	return filepath.Join(d.Data, "oca", "accounts", name)
}

// StateHome is the user's real XDG_STATE_HOME, the directory that holds
// oca's own (State).
func (d Dirs) StateHome() string { return filepath.Dir(d.State) }

// DefaultStateHome is where a new account's state home goes:
// $XDG_STATE_HOME/oca/homes/NAME. Not inside the account's runtime dir
// ($XDG_STATE_HOME/oca/accounts/NAME), which `oca account remove` deletes
// and whose lock and password no other program is to see.
func (d Dirs) DefaultStateHome(name string) string {
	return filepath.Join(d.State, "homes", name)
}

// DefaultConfigDir is where a new account's config dir goes: its own
// OpenCode config layer.
func (d Dirs) DefaultConfigDir(name string) string {
	return filepath.Join(d.Config, "accounts", name)
}

// Expand turns a leading "~/" into the home directory and checks that the
// result is absolute.
func (d Dirs) Expand(p string) (string, error) {
	switch {
	case p == "~":
		p = d.Home
	case strings.HasPrefix(p, "~/"):
		p = filepath.Join(d.Home, p[2:])
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute (use an absolute path or ~/...)", p)
	}
	return filepath.Clean(p), nil
}

// Abbrev writes p with "~/" for the home directory, as a user would.
func (d Dirs) Abbrev(p string) string {
	if p == d.Home {
		return "~"
	}
	if rel, ok := strings.CutPrefix(p, d.Home+"/"); ok {
		return "~/" + rel
	}
	return p
}

// realish is p with its links resolved as far as it exists: the real path
// of its longest existing ancestor, with the rest appended.
func realish(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p
	}
	return filepath.Join(realish(parent), filepath.Base(p))
}

// nesting tells how path a stands to path b, compared as written (cleaned)
// and, with resolve, also as they resolve where they exist: "is",
// "contains", "lies inside", or "" for apart.
func nesting(a, b string, resolve bool) string {
	if rel := relation(a, b); rel != "" || !resolve {
		return rel
	}
	ra, rb := realish(a), realish(b)
	for _, p := range [][2]string{{ra, b}, {a, rb}, {ra, rb}} {
		if rel := relation(p[0], p[1]); rel != "" {
			return rel
		}
	}
	return ""
}

// relation compares two clean absolute paths as strings.
func relation(a, b string) string {
	switch {
	case a == b:
		return "is"
	case safepath.Within(b, a):
		return "contains"
	case safepath.Within(a, b):
		return "lies inside"
	}
	return ""
}

// homeKind tells an account's two homes apart: its data home (exported as
// XDG_DATA_HOME) and its state home (XDG_STATE_HOME).
type homeKind int

const (
	dataHome homeKind = iota
	stateHome
)

func (k homeKind) String() string {
	if k == stateHome {
		return "state home"
	}
	return "data home"
}

// key is the home's key in the accounts file.
func (k homeKind) key() string {
	if k == stateHome {
		return "state_home"
	}
	return "data_home"
}

// homeConflict says why home cannot be an account's home of kind because
// of where it lies among the user's own directories, or "". A home must
// not be or contain HOME; must not be, contain or lie inside oca's config
// directory. A data home must not touch oca's state directory, and within
// the user's real data home it must lie inside $XDG_DATA_HOME/oca/accounts,
// not among other programs' data. A state home must not be, contain or lie
// inside the real data home, nor be or contain the real state home, and
// within that it must lie inside $XDG_STATE_HOME/oca/homes, away from
// oca's own files and other programs' state. Purging a home deletes it:
// none of these may go with it. With resolve, links are followed too (add,
// import, purge); the load of the file at every hook run compares the
// paths as written, since resolving them all would make it thirty times
// slower.
func (d Dirs) homeConflict(kind homeKind, home string, resolve bool) string {
	what := kind.String()
	switch nesting(home, d.Home, resolve) {
	case "is":
		return what + " " + home + " is your home directory; an account needs a directory of its own"
	case "contains":
		return what + " " + home + " contains your home directory " + d.Home + "; an account needs a directory of its own"
	}
	switch nesting(home, d.Data, resolve) {
	case "is":
		return what + " is your own XDG_DATA_HOME; an account needs a directory of its own"
	case "contains":
		return what + " " + home + " contains your own XDG_DATA_HOME " + d.Data + "; an account needs a directory of its own"
	case "lies inside":
		if kind == stateHome {
			return fmt.Sprintf("state home %s lies inside your own XDG_DATA_HOME %s, among other programs' data; put it outside", home, d.Data)
		}
		accounts := filepath.Join(d.Data, "oca", "accounts")
		switch rel := nesting(home, accounts, resolve); rel {
		case "lies inside":
		case "is", "contains":
			return fmt.Sprintf("data home %s %s %s, where oca makes each account's data home; an account needs a directory of its own", home, rel, accounts)
		default:
			return fmt.Sprintf("data home %s lies inside your own XDG_DATA_HOME but not inside %s, among other programs' data; put it there or outside %s", home, accounts, d.Data)
		}
	}
	dirs := []struct{ dir, what string }{{d.Config, "oca's config directory"}, {d.State, "oca's state directory"}}
	if kind == stateHome {
		real := d.StateHome()
		switch nesting(home, real, resolve) {
		case "is":
			return "state home is your own XDG_STATE_HOME; an account needs a directory of its own"
		case "contains":
			return "state home " + home + " contains your own XDG_STATE_HOME " + real + "; an account needs a directory of its own"
		case "lies inside":
			homes := filepath.Join(d.State, "homes")
			switch rel := nesting(home, homes, resolve); rel {
			case "lies inside":
			case "is", "contains":
				return fmt.Sprintf("state home %s %s %s, where oca makes each account's state home; an account needs a directory of its own", home, rel, homes)
			default:
				return fmt.Sprintf("state home %s lies inside your own XDG_STATE_HOME but not inside %s, among oca's files or other programs' state; put it there or outside %s", home, homes, real)
			}
		}
		dirs = dirs[:1] // inside oca's state directory, homes/ is where it belongs
	}
	for _, c := range dirs {
		if rel := nesting(home, c.dir, resolve); rel != "" {
			return fmt.Sprintf("%s %s %s %s %s; an account needs a directory of its own", what, home, rel, c.what, c.dir)
		}
	}
	return ""
}
