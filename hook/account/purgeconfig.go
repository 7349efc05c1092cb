package account

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oca-sh/oca/internal/safepath"
)

// ConfigDirIsDefault tells whether the account's config dir is the one oca
// made for it (DefaultConfigDir), as against one the user named with
// --config-dir or config_dir.
func ConfigDirIsDefault(dirs Dirs, a *Account) bool {
	return a.ConfigDir != "" && filepath.Clean(a.ConfigDir) == dirs.DefaultConfigDir(a.Name)
}

// PurgeConfigDir deletes a removed account's config dir, as a package
// manager's purge deletes the configuration it installed and no other:
// only the one oca made (DefaultConfigDir), never a directory the user
// named, which may be shared or hold more than OpenCode's config. r is the
// registry without the account. It returns what it deleted (""), or why
// it kept the dir (kept): a dir the user named, or one another account
// uses. A dir that is a link, not a directory, or another user's is an
// error, and left whole.
func PurgeConfigDir(r *Registry, a *Account) (deleted, kept string, err error) {
	dir := a.ConfigDir
	if dir == "" {
		return "", "", nil
	}
	if !ConfigDirIsDefault(r.dirs, a) {
		return "", "it is yours (config_dir), not one oca made", nil
	}
	for _, name := range r.Names() {
		o := r.Accounts[name]
		for _, theirs := range []string{o.ConfigDir, o.DataHome, o.StateHome} {
			if theirs == "" {
				continue
			}
			if rel := nesting(dir, theirs, true); rel != "" {
				return "", fmt.Sprintf("it %s account %s's %s", rel, name, theirs), nil
			}
		}
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("purging %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", "", fmt.Errorf("not deleting config dir %s: it is %s, not a directory; delete it by hand", dir, kindOfPath(fi))
	}
	if err := safepath.Owned(dir, fi); err != nil {
		return "", "", fmt.Errorf("not deleting config dir %s: %w", dir, err)
	}
	names, _ := ConfigDirEntries(dir)
	if err := os.RemoveAll(dir); err != nil {
		return "", "", fmt.Errorf("purging %s: %w", dir, err)
	}
	what := dir + "/ (its config dir"
	if len(names) > 0 {
		what += ": " + strings.Join(names, ", ")
	}
	return what + ")", "", nil
}

// ConfigDirEntries lists what a config dir holds, directories with a
// trailing slash, sorted; nothing for a missing or empty one.
func ConfigDirEntries(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
