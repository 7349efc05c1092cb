package account

import (
	"os"
	"slices"
	"strings"
)

// The tests' ways in, which oca itself has no use for.

// SetTrustedPaths replaces an account's trusted_paths.
func (r *Registry) SetTrustedPaths(name string, paths []string) error {
	a, err := r.Get(name)
	if err != nil {
		return err
	}
	a.TrustedPaths = a.TrustedPaths[:0]
	a.raw.TrustedPaths = nil
	for _, p := range paths {
		abs, err := r.dirs.Expand(p)
		if err != nil {
			return err
		}
		if !slices.Contains(a.TrustedPaths, abs) {
			a.TrustedPaths = append(a.TrustedPaths, abs)
			a.raw.TrustedPaths = append(a.raw.TrustedPaths, r.dirs.Abbrev(abs))
		}
	}
	return nil
}

// ReadPassword returns the account's password without creating one ("" when
// there is none yet).
func ReadPassword(dirs Dirs, name string) string {
	data, err := os.ReadFile(PasswordFile(dirs, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
