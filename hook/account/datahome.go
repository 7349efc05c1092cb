package account

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/safepath"
)

// Prepare makes the account usable: its data home (PrepareDataHome) and
// its config dir (EnsureConfigDir: made 0700 when absent, refused when it
// is not a directory of the user's own that only they may change).
func Prepare(dirs Dirs, a *Account) error {
	if err := makeDataHome(a); err != nil {
		return err
	}
	if err := EnsureConfigDir(a); err != nil {
		return err
	}
	return SyncLinks(dirs.Data, a.DataHome)
}

// PrepareDataHome makes the account's data home usable: it creates it
// 0700, and links every entry of the user's real data home into it but
// opencode/, so that exporting it as XDG_DATA_HOME moves OpenCode alone
// while direnv, mise, nvim and the rest keep finding their data. A data
// home that another user owns is refused, never chmod'ed. (The supervisor
// checks the config dir itself, before each start of OpenCode.)
func PrepareDataHome(dirs Dirs, a *Account) error {
	if err := makeDataHome(a); err != nil {
		return err
	}
	return SyncLinks(dirs.Data, a.DataHome)
}

func makeDataHome(a *Account) error {
	if err := os.MkdirAll(a.DataHome, 0o700); err != nil {
		return fmt.Errorf("account %s: creating data home: %w", a.Name, err)
	}
	f, err := os.Open(a.DataHome)
	if err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	if err := ownedByMe(a.DataHome, fi); err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("account %s: data home %s is not a directory", a.Name, a.DataHome)
	}
	if err := f.Chmod(0o700); err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	return nil
}

// ownedByMe refuses a data home that another user owns (fi: what the
// caller opened), by the owner rule of safepath.
func ownedByMe(path string, fi fs.FileInfo) error {
	if err := safepath.Owned(path, fi); err != nil {
		return fmt.Errorf("%w: refusing to use it as a data home", err)
	}
	return nil
}

// SyncLinks brings the links in shadow up to date with real: a link for each
// entry of real (but opencode/ and whatever holds shadow itself), and no
// link left that points into real at something gone. It never touches an
// entry of shadow that is not such a link.
func SyncLinks(real, shadow string) error {
	entries, err := os.ReadDir(real)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", real, err)
	}
	want := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		target := filepath.Join(real, name)
		if name == "opencode" || safepath.Within(shadow, target) {
			continue
		}
		want[name] = true
		link := filepath.Join(shadow, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		if _, err := os.Lstat(link); err == nil {
			continue // the account's own file or a link the user made: leave it
		}
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("linking %s: %w", link, err)
		}
	}
	have, err := os.ReadDir(shadow)
	if err != nil {
		return fmt.Errorf("reading %s: %w", shadow, err)
	}
	for _, e := range have {
		if e.Type()&fs.ModeSymlink == 0 || want[e.Name()] {
			continue
		}
		link := filepath.Join(shadow, e.Name())
		if cur, err := os.Readlink(link); err == nil && filepath.Dir(cur) == real {
			os.Remove(link)
		}
	}
	return nil
}

// PasswordFile is where the account's server password is kept (mode 0600).
func PasswordFile(dirs Dirs, name string) string {
	return filepath.Join(dirs.RuntimeDir(name), "password")
}

// Password returns the account's server password, creating a random one on
// first use. Callers racing to create it (shells entering projects of one
// account at once) all get the one that ends up in the file: a new password
// is linked into place, which fails when another got there first, never
// renamed over it.
func Password(dirs Dirs, name string) (string, error) {
	path := PasswordFile(dirs, name)
	data, err := os.ReadFile(path)
	if err == nil && validPassword(data) {
		return strings.TrimSpace(string(data)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("account %s: reading password: %w", name, err)
	}
	if err := EnsurePrivateDir(filepath.Dir(path)); err != nil {
		return "", err
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("account %s: making a password: %w", name, err)
	}
	pw := base64.RawURLEncoding.EncodeToString(buf)
	tmp := filepath.Join(filepath.Dir(path), ".password.tmp-"+base64.RawURLEncoding.EncodeToString(buf[:6]))
	if err := atomicfile.Write(tmp, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		if data, rerr := os.ReadFile(path); rerr == nil && validPassword(data) {
			return strings.TrimSpace(string(data)), nil
		}
		// What is there holds no usable password: replace it.
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return "", fmt.Errorf("account %s: saving password: %w", name, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("account %s: saving password: %w", name, err)
	}
	return pw, nil
}

func validPassword(data []byte) bool { return len(strings.TrimSpace(string(data))) >= 16 }

// Found is an account directory found by Scan.
type Found struct {
	Name     string
	DataHome string
}

// Scan finds accounts in the seed's layout: dir itself when dir/opencode
// exists (named after dir), else every dir/NAME with NAME/opencode.
func Scan(dir string) ([]Found, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if isDir(filepath.Join(abs, "opencode")) {
		return []Found{{Name: filepath.Base(abs), DataHome: abs}}, nil
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	var found []Found
	for _, e := range entries {
		p := filepath.Join(abs, e.Name())
		if e.IsDir() && isDir(filepath.Join(p, "opencode")) {
			found = append(found, Found{Name: e.Name(), DataHome: p})
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("import: no account in %s (looked for %s/opencode and %s/*/opencode)", abs, abs, abs)
	}
	return found, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
