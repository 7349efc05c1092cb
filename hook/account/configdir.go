package account

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/oca-sh/oca/internal/regularfile"
	"github.com/oca-sh/oca/internal/safepath"
	"github.com/oca-sh/oca/shells"
)

// configDirRule is what a config dir must be: OpenCode runs the plugins
// and MCP commands it finds there, as the user, and sends the account's
// keys wherever its opencode.json says. So it is the user's own (root's
// will not do), not writable by group or others, and so is every
// directory from it up to /, but that one may be root's, and a directory
// of root's with the sticky bit (/tmp) may be writable by others. A link
// on the way (~/.config into a dotfiles repository) stands when its owner
// is the user or root, and the directories it leads to are checked too.
var configDirRule = safepath.Rule{Mine: true, Sticky: true, Links: true, Missing: true}

// UnsafeConfigDirError is a config dir that someone else could change: it,
// or a directory above it, belongs to another user or may be written by
// others (safepath.Check).
type UnsafeConfigDirError struct {
	Account string
	Dir     string          // the config dir
	Fault   *safepath.Fault // what is wrong, and where
}

func (e *UnsafeConfigDirError) Error() string { return e.Message(shells.Quote) }

// Message is the error's line with the paths of its mend quoted by quote
// (the hook's: for the shell that asked).
func (e *UnsafeConfigDirError) Message(quote func(string) string) string {
	f := e.Fault
	what := f.Error() // names f.Path
	switch {
	case f.Problem == safepath.Unknown:
		what = e.Dir + ": cannot check who may change it: " + what
	case f.Above():
		what = e.Dir + ": ancestor " + what
	}
	return fmt.Sprintf("account %s: config dir %s: refusing it; mend with: %s", e.Account, what, e.fix(quote))
}

func (e *UnsafeConfigDirError) Unwrap() error { return e.Fault }

// Fix is the command (or the choice) that mends it: chmod go-w of a
// directory of the user's, sudo for one of root's, and for a directory of
// another user's, another config dir (or, for the config dir itself, sudo
// chown once its content is trusted).
func (e *UnsafeConfigDirError) Fix() string { return e.fix(shells.Quote) }

func (e *UnsafeConfigDirError) fix(quote func(string) string) string {
	f := e.Fault
	other := "choose another config dir (--config-dir, or config_dir in accounts.toml)"
	switch {
	case f.Problem == safepath.Writable && f.UID == os.Getuid():
		return "chmod go-w " + quote(f.Path)
	case f.Problem == safepath.Writable:
		return "sudo chmod go-w " + quote(f.Path) + ", or " + other
	case f.Problem == safepath.NotMine && !f.Above():
		return "sudo chown -R " + quote(currentUser()) + " " + quote(f.Path) + " once you trust what it holds, or " + other
	}
	return other
}

// Mend is the fix where it is safe to make without asking (doctor --fix),
// nil elsewhere: chmod go-w of a directory the user owns. Never a chown,
// never a directory of someone else's.
func (e *UnsafeConfigDirError) Mend() func() error {
	f := e.Fault
	if f.Problem != safepath.Writable || f.UID != os.Getuid() {
		return nil
	}
	return func() error { return chmodGoW(f.Path) }
}

// chmodGoW takes group's and others' write permission off the directory
// at path, judged and changed through one descriptor: a link put in its
// place meanwhile is not followed, and a directory that is not the user's
// is not touched.
func chmodGoW(path string) error {
	d, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return err
	}
	if err := safepath.Owned(path, fi); err != nil {
		return err
	}
	return d.Chmod(fi.Mode() &^ 0o022)
}

// CheckConfigDir checks the account's config dir, the OpenCode config layer
// its shells, server and commands get as OPENCODE_CONFIG_DIR: a missing one
// is fine (it is made on first use) when the directories it would be made
// in are safe; a symbolic link, a file, a directory that cannot be read, or
// one that someone else could change (an *UnsafeConfigDirError: see
// configDirRule) is an error that names it and says how to mend it.
func CheckConfigDir(a *Account) error {
	if a.ConfigDir == "" {
		return nil
	}
	unsafe := func() error {
		var f *safepath.Fault
		if err := safepath.Check(a.ConfigDir, configDirRule); errors.As(err, &f) {
			return &UnsafeConfigDirError{Account: a.Name, Dir: a.ConfigDir, Fault: f}
		}
		return nil
	}
	fi, err := os.Lstat(a.ConfigDir)
	if os.IsNotExist(err) {
		return unsafe()
	}
	if err != nil {
		return fmt.Errorf("account %s: config dir: %w", a.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("account %s: config dir %s is %s, not a directory: refusing it; replace it with a directory (or set config_dir in accounts.toml)", a.Name, a.ConfigDir, kindOfPath(fi))
	}
	if err := unsafe(); err != nil {
		return err
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

// EnsureConfigDir makes the account's config dir, 0700, when it is absent
// (and the directories it would be made in pass CheckConfigDir), and checks
// it (CheckConfigDir).
func EnsureConfigDir(a *Account) error {
	if a.ConfigDir == "" {
		return nil
	}
	if _, err := os.Lstat(a.ConfigDir); errors.Is(err, fs.ErrNotExist) {
		if err := CheckConfigDir(a); err != nil {
			return err
		}
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
