package main

// What an earlier account of the same name left behind, which a new one
// takes up: said, never silent.

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook/account"
)

// leftovers is what lies now in the directories a new account name could
// take: the config dirs' entries, and the homes' opencode/ (credentials,
// sessions, state). paths are the candidates (absolute); the result maps
// each that holds something to what it holds.
func leftovers(paths ...string) map[string][]string {
	found := map[string][]string{}
	for _, p := range paths {
		if p == "" || !filepath.IsAbs(p) {
			continue
		}
		if names, err := account.ConfigDirEntries(p); err == nil && len(names) > 0 {
			found[p] = names
		}
	}
	return found
}

// sayLeftovers says, one line each, which of the new account's
// directories it takes up as an earlier account left them (before: what
// leftovers saw before the account was made).
func (a *app) sayLeftovers(dirs account.Dirs, acc *account.Account, before map[string][]string) {
	say := func(what, dir string, names []string) {
		fmt.Fprintf(a.stderr, "oca: account %s takes up its %s %s as it was left: %s (to start clean: oca account remove %s, move it away, and add the account again)\n",
			acc.Name, what, dirs.Abbrev(dir), strings.Join(names, ", "), acc.Name)
	}
	if names := before[acc.ConfigDir]; len(names) > 0 {
		say("config dir", acc.ConfigDir, names)
	}
	for what, home := range map[string]string{"data home (credentials, sessions)": acc.DataHome, "state home": acc.StateHome} {
		if _, ok := before[home]; !ok {
			continue
		}
		if names, err := account.ConfigDirEntries(filepath.Join(home, "opencode")); err == nil && len(names) > 0 {
			say(what, home, []string{"opencode/ (" + strings.Join(names, ", ") + ")"})
		}
	}
}

// expandOr is p with "~" expanded, or def when p is "".
func expandOr(dirs account.Dirs, p, def string) string {
	if p == "" {
		return def
	}
	if e, err := dirs.Expand(p); err == nil {
		return e
	}
	return ""
}
