// Package account is the user's registry of OpenCode accounts: the accounts
// file ($XDG_CONFIG_HOME/oca/accounts.toml), each account's data home with
// its links to the user's real data home, and its server password.
package account

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
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
