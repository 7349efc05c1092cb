package shim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Name is the shim's file name, and the name oca answers to as the shim.
const Name = "opencode"

// Dir is the shim directory under oca's state directory ($XDG_STATE_HOME/oca,
// as it was before oca changed anything).
func Dir(state string) string { return filepath.Join(state, "shim") }

// Valid tells whether dir can be a shim directory: an absolute, clean path
// ending in /oca/shim. A record that names anything else (a corrupt or
// foreign __OCA_STATE) must not take an entry off the user's PATH.
func Valid(dir string) bool {
	return filepath.IsAbs(dir) && filepath.Clean(dir) == dir && strings.HasSuffix(dir, "/oca/shim")
}

// Ensure makes dir (0700) hold Name, a symbolic link to the oca binary
// self. It costs one readlink when the link is right already; a link to
// another binary (oca moved) is replaced atomically.
func Ensure(dir, self string) error {
	if !filepath.IsAbs(self) {
		return fmt.Errorf("shim: oca's own path %q is not absolute", self)
	}
	link := filepath.Join(dir, Name)
	if cur, err := os.Readlink(link); err == nil && cur == self {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("shim: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("shim: %w", err)
	}
	if !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("shim: %s is not a directory only you may write to (mend with: chmod 700 %s)", dir, dir)
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d", Name, os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(self, tmp); err != nil {
		return fmt.Errorf("shim: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("shim: %w", err)
	}
	return nil
}

// Strip returns path (a PATH value) without any entry equal to dir; every
// other entry, empty ones included, stays as it was.
func Strip(path, dir string) string {
	if dir == "" || !strings.Contains(path, dir) {
		return path
	}
	parts := strings.Split(path, ":")
	kept := parts[:0]
	for _, p := range parts {
		if p != dir {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ":")
}

// Prepend returns path with dir as its first entry and nowhere else. An
// empty path stays empty: there is no PATH to put the shim on, and none to
// restore.
func Prepend(path, dir string) string {
	rest := Strip(path, dir)
	if rest == "" {
		return ""
	}
	return dir + ":" + rest
}

// ErrNotExecutable is a configured OpenCode that is not an executable file.
var ErrNotExecutable = errors.New("is not an executable file")

// ErrSelf is a lookup that found oca itself where the real OpenCode should be.
var ErrSelf = errors.New("is oca itself")

// Real finds the real OpenCode: configured (the accounts file's opencode
// key) when set, else the first opencode on path that is not in a shim
// directory. self is oca's own binary: a candidate that is oca (a link or a
// hard link to it) would call the shim again, and is an error that names
// its path.
func Real(configured, path, self string) (string, error) {
	selfFi, _ := os.Stat(self)
	check := func(p string) error {
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fs.ErrNotExist
		}
		if selfFi != nil && os.SameFile(fi, selfFi) {
			return fmt.Errorf("%s %w (a link to %s), so it would call itself", p, ErrSelf, self)
		}
		return nil
	}
	if configured != "" {
		if err := check(configured); err != nil {
			if errors.Is(err, ErrSelf) {
				return "", err
			}
			return "", ErrNotExecutable
		}
		return configured, nil
	}
	for _, d := range strings.Split(path, ":") {
		if d == "" {
			d = "."
		}
		if filepath.Base(d) == "shim" && Valid(filepath.Clean(d)) {
			continue
		}
		p := filepath.Join(d, Name)
		if err := check(p); err == nil {
			return p, nil
		} else if errors.Is(err, ErrSelf) {
			return "", err
		}
	}
	return "", fs.ErrNotExist
}
