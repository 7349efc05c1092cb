package account

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/safepath"
	"github.com/oca-sh/oca/shells"
)

// Prepare makes the account usable: its data home and state home
// (PrepareHomes) and its config dir (EnsureConfigDir: made 0700 when
// absent, refused when it is not a directory of the user's own that only
// they may change). Entries that PrepareHomes could not move to the
// user's real homes (another file system) stay where they are, and are no
// error here: the hook and `oca exec` say them.
func Prepare(dirs Dirs, a *Account) error {
	for _, h := range homesOf(dirs, a) {
		if err := makeHome(a, h); err != nil {
			return err
		}
	}
	if err := EnsureConfigDir(a); err != nil {
		return err
	}
	_, err := syncHomes(dirs, a)
	return err
}

// PrepareHomes makes the account's data home and state home usable: it
// creates each 0700, and brings it up to date with the user's real one
// (SyncLinks), so that exporting them as XDG_DATA_HOME and XDG_STATE_HOME
// moves OpenCode alone while direnv, mise, nvim, less and the rest keep
// finding their data and state. A home that another user owns is refused,
// never chmod'ed. What it could not move to the real homes, it returns as
// stranded, one error a home, for the caller to say. (The supervisor
// checks the config dir itself, before each start of OpenCode; the hook
// checks it before this.)
func PrepareHomes(dirs Dirs, a *Account) (stranded []*StrandedError, err error) {
	for _, h := range homesOf(dirs, a) {
		if err := makeHome(a, h); err != nil {
			return nil, err
		}
	}
	return syncHomes(dirs, a)
}

// home is one of an account's homes and the user's real one it shadows.
type home struct {
	kind       homeKind
	path, real string
}

func homesOf(dirs Dirs, a *Account) []home {
	return []home{{dataHome, a.DataHome, dirs.Data}, {stateHome, a.StateHome, dirs.StateHome()}}
}

// syncHomes runs SyncLinks on each of the account's homes.
func syncHomes(dirs Dirs, a *Account) (stranded []*StrandedError, err error) {
	for _, h := range homesOf(dirs, a) {
		err := SyncLinks(h.real, h.path)
		var se *StrandedError
		if errors.As(err, &se) {
			se.Account, se.Kind = a.Name, h.kind.String()
			stranded = append(stranded, se)
			continue
		}
		if err != nil {
			return stranded, fmt.Errorf("account %s: %s: %w", a.Name, h.kind, err)
		}
	}
	return stranded, nil
}

func makeHome(a *Account, h home) error {
	if err := os.MkdirAll(h.path, 0o700); err != nil {
		return fmt.Errorf("account %s: creating %s: %w", a.Name, h.kind, err)
	}
	f, err := os.Open(h.path)
	if err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	if err := ownedByMe(h.kind, h.path, fi); err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("account %s: %s %s is not a directory", a.Name, h.kind, h.path)
	}
	if err := f.Chmod(0o700); err != nil {
		return fmt.Errorf("account %s: %w", a.Name, err)
	}
	return nil
}

// ownedByMe refuses a home that another user owns (fi: what the caller
// opened), by the owner rule of safepath.
func ownedByMe(kind homeKind, path string, fi fs.FileInfo) error {
	if err := safepath.Owned(path, fi); err != nil {
		return fmt.Errorf("%w: refusing to use it as a %s", err, kind)
	}
	return nil
}

// StrandedError is what SyncLinks could not move from an account's home
// to the user's real one: they lie on two file systems, and oca moves
// nothing across (a copy is not a move: a crash halfway, or a tool writing
// meanwhile, would leave two).
type StrandedError struct {
	Account string   // set by PrepareHomes
	Kind    string   // "data home" or "state home", set by PrepareHomes
	Home    string   // the account's home
	Real    string   // the user's real one
	Names   []string // the entries left in Home
}

func (e *StrandedError) Error() string { return e.Message(shells.Quote) }

// Message is the error's line, with the paths of its mend quoted by quote
// (the hook's: for the shell that asked).
func (e *StrandedError) Message(quote func(string) string) string {
	kind := e.Kind
	if kind == "" {
		kind = "home"
	}
	var args []string
	for _, n := range e.Names {
		args = append(args, quote(filepath.Join(e.Home, n)))
	}
	who := ""
	if e.Account != "" {
		who = "account " + e.Account + ": "
	}
	are, them := "is", "it"
	if len(e.Names) > 1 {
		are, them = "are", "them"
	}
	return fmt.Sprintf("%s%s in the %s %s, made there by another program, %s not in your own %s, which lies on another file system; oca moves nothing across file systems; to share %s, run: mv -n %s %s/ (oca links %s at the next entering)",
		who, strings.Join(e.Names, ", "), kind, e.Home, are, e.Real, them, strings.Join(args, " "), quote(e.Real), them)
}

// Stray is an entry of an account's home that another program made there
// (inside a project it was the program's XDG_DATA_HOME or XDG_STATE_HOME):
// neither a link nor the account's own opencode/.
type Stray struct {
	Name string
	// InReal: the user's real home has an entry of that name too. oca
	// then moves nothing: which of the two to keep is the user's choice.
	InReal bool
}

// Strays lists the strays of shadow, the account's home that real is the
// user's own of.
func Strays(real, shadow string) ([]Stray, error) {
	realEntries, err := readNames(real)
	if err != nil {
		return nil, err
	}
	have, err := os.ReadDir(shadow)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", shadow, err)
	}
	var out []Stray
	for _, e := range have {
		if isStray(real, shadow, e) {
			_, in := realEntries[e.Name()]
			out = append(out, Stray{Name: e.Name(), InReal: in})
		}
	}
	return out, nil
}

// readNames is the entries of dir by name; none when dir does not exist.
func readNames(dir string) (map[string]fs.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	m := make(map[string]fs.DirEntry, len(entries))
	for _, e := range entries {
		m[e.Name()] = e
	}
	return m, nil
}

// isStray tells whether e, an entry of shadow, is another program's: not
// a link (oca's, or one the user made), not the account's own opencode/,
// and not an entry that holds real or that real's entry of that name holds
// shadow (such an entry is never linked).
func isStray(real, shadow string, e fs.DirEntry) bool {
	name := e.Name()
	if e.Type()&fs.ModeSymlink != 0 || name == "opencode" {
		return false
	}
	return !safepath.Within(real, filepath.Join(shadow, name)) && !safepath.Within(shadow, filepath.Join(real, name))
}

// SyncLinks brings shadow, an account's home, up to date with real, the
// user's own: a link for each entry of real (but opencode/ and whatever
// holds shadow itself), and no link left that points into real at
// something gone. An entry that another program made in shadow and that
// real lacks (direnv's first `direnv allow` inside a project) belongs to
// the user's real home: it is moved there (a rename, which keeps it whole
// and open files working) and linked in its place. Across file systems
// nothing is moved, and the entries are returned as a *StrandedError. An
// entry that both hold is left as it is (the user chooses: `oca doctor`
// names both), as is any link the user made. It reads each directory once.
func SyncLinks(real, shadow string) error {
	realEntries, err := readNames(real)
	if err != nil {
		return err
	}
	have, err := os.ReadDir(shadow)
	if err != nil {
		return fmt.Errorf("reading %s: %w", shadow, err)
	}
	in := make(map[string]bool, len(have))
	for _, e := range have {
		in[e.Name()] = true
	}
	for name := range realEntries {
		target := filepath.Join(real, name)
		if in[name] || name == "opencode" || safepath.Within(shadow, target) {
			continue // linked already, or the account's own, or a link the user made
		}
		link := filepath.Join(shadow, name)
		if err := os.Symlink(target, link); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("linking %s: %w", link, err)
		}
	}
	var stranded []string
	for _, e := range have {
		name := e.Name()
		if e.Type()&fs.ModeSymlink != 0 {
			if _, ok := realEntries[name]; ok {
				continue
			}
			// A link of oca's whose target is gone from real.
			link := filepath.Join(shadow, name)
			if cur, err := os.Readlink(link); err == nil && filepath.Dir(cur) == real {
				os.Remove(link)
			}
			continue
		}
		if _, ok := realEntries[name]; ok || !isStray(real, shadow, e) {
			continue
		}
		switch err := adopt(real, shadow, name); {
		case errors.Is(err, unix.EXDEV):
			stranded = append(stranded, name)
		case err != nil:
			return err
		}
	}
	if len(stranded) > 0 {
		sort.Strings(stranded)
		return &StrandedError{Home: shadow, Real: real, Names: stranded}
	}
	return nil
}

// adopt moves shadow/name to real/name, never over an entry there, and
// links it in its place. Another oca that moved it first is no error.
func adopt(real, shadow, name string) error {
	from, to := filepath.Join(shadow, name), filepath.Join(real, name)
	if err := os.MkdirAll(real, 0o700); err != nil {
		return fmt.Errorf("moving %s: %w", from, err)
	}
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// A file system (or kernel) without RENAME_NOREPLACE: look, then
		// rename, which could replace only what appeared in between.
		if _, lerr := os.Lstat(to); lerr == nil {
			return nil
		}
		err = os.Rename(from, to)
	}
	switch {
	case errors.Is(err, unix.EXDEV):
		return err
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrExist):
		return nil // moved by another oca already, or made in real meanwhile: both are the user's now
	case err != nil:
		return fmt.Errorf("moving %s to %s: %w", from, to, err)
	}
	if err := os.Symlink(to, from); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("linking %s: %w", from, err)
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
