package account

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/oca-sh/oca/internal/regularfile"
)

// CheckConfigDir checks the account's config dir, the OpenCode config layer
// its shells, server and commands get as OPENCODE_CONFIG_DIR: a missing one
// is fine (it is made on first use); a symbolic link, a file, or a
// directory that cannot be read is an error that names it and says how to
// mend it.
func CheckConfigDir(a *Account) error {
	if a.ConfigDir == "" {
		return nil
	}
	fi, err := os.Lstat(a.ConfigDir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("account %s: config dir: %w", a.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("account %s: config dir %s is %s, not a directory: refusing it; replace it with a directory (or set config_dir in accounts.toml)", a.Name, a.ConfigDir, kindOfPath(fi))
	}
	f, err := os.Open(a.ConfigDir)
	if err == nil {
		_, err = f.Readdirnames(1)
		f.Close()
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		cause, fix := Unreadable(a.ConfigDir, err, "700")
		return fmt.Errorf("account %s: config dir %s cannot be read (%s): refusing it; mend with: %s", a.Name, a.ConfigDir, cause, fix)
	}
	return nil
}

// EnsureConfigDir makes the account's config dir, 0700, when it is absent,
// and checks it (CheckConfigDir).
func EnsureConfigDir(a *Account) error {
	if a.ConfigDir == "" {
		return nil
	}
	if _, err := os.Lstat(a.ConfigDir); os.IsNotExist(err) {
		if err := os.MkdirAll(a.ConfigDir, 0o700); err != nil {
			return fmt.Errorf("account %s: creating config dir: %w", a.Name, err)
		}
	}
	return CheckConfigDir(a)
}

func kindOfPath(fi os.FileInfo) string {
	if fi.Mode().IsRegular() {
		return "a file"
	}
	return regularfile.Kind(fi.Mode())
}
