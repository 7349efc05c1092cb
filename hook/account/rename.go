package account

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/oca-sh/oca/projectfile"
)

// Gone tells why the account started, as a server was started for it, is
// no longer in the accounts file as it was: "" while it is. It is gone
// when it was removed or renamed, made external, or given another port,
// data home, state home or config dir: its supervisor would serve what
// the account no longer is, holding a port nothing could stop it on. An
// error: the accounts file cannot be read now (half written, say).
func Gone(dirs Dirs, started *Account) (string, error) {
	r, err := Load(dirs)
	if err != nil {
		return "", err
	}
	a, ok := r.Accounts[started.Name]
	name := started.Name
	switch {
	case !ok:
		return fmt.Sprintf("account %s is no longer in %s (removed or renamed)", name, r.Path), nil
	case a.External:
		return fmt.Sprintf("account %s is external now (external = true): its server runs elsewhere", name), nil
	case a.Port != started.Port:
		return fmt.Sprintf("account %s's port is now %d, not %d", name, a.Port, started.Port), nil
	case a.DataHome != started.DataHome:
		return fmt.Sprintf("account %s's data home is now %s, not %s", name, a.DataHome, started.DataHome), nil
	case a.StateHome != started.StateHome:
		return fmt.Sprintf("account %s's state home is now %s, not %s", name, a.StateHome, started.StateHome), nil
	case a.ConfigDir != started.ConfigDir:
		return fmt.Sprintf("account %s's config dir is now %s, not %s", name, a.ConfigDir, started.ConfigDir), nil
	}
	return "", nil
}

// Move is one directory of an account that a rename moves (From to To) or
// leaves where it is (From == To: a path of the user's choosing).
type Move struct {
	What     string // "data home", "state home", "config dir"
	From, To string
}

// Moved reports whether the rename moved it.
func (m Move) Moved() bool { return m.From != m.To }

// Renamed is what Rename did.
type Renamed struct {
	Old, New *Account
	Homes    []Move // the data home, state home and config dir
}

// Rename gives account old the name new (run inside Update, with the
// supervisors of both names stopped and locked). What is named after the
// account follows it:
//   - its data home, state home and config dir, each when it is at oca's
//     default path for old (it moves to the default path for new); a path
//     of the user's choosing stays where it is, and the account keeps
//     naming it;
//   - its runtime dir (password, serve.log): see MoveRuntime, called once
//     the accounts file is saved.
//
// Everything else of the account's table (port, trusted paths, env,
// idle timeout, comments aside) stays. A destination that exists already
// (the homes of an earlier account new, kept by `oca account remove`) is
// refused before anything moves. When the file cannot be saved, the moved
// homes are moved back.
func (r *Registry) Rename(old, new string) (*Renamed, error) {
	a, na, moves, err := r.renamePlan(old, new)
	if err != nil {
		return nil, err
	}
	delete(r.Accounts, old)
	r.Accounts[new] = na
	undo := func() {}
	for _, m := range moves {
		if !m.Moved() {
			continue
		}
		if _, err := os.Lstat(m.From); errors.Is(err, fs.ErrNotExist) {
			continue // never made: the new name's is made when first needed
		}
		if err := os.Rename(m.From, m.To); err != nil {
			undo()
			delete(r.Accounts, new)
			r.Accounts[old] = a
			return nil, fmt.Errorf("not renaming %s to %s: moving its %s: %w", old, new, m.What, err)
		}
		prev, m := undo, m
		undo = func() { _ = os.Rename(m.To, m.From); prev() }
	}
	r.undo = append(r.undo, func() { undo(); delete(r.Accounts, new); r.Accounts[old] = a })
	return &Renamed{Old: a, New: na, Homes: moves}, nil
}

// CheckRename says why Rename(old, new) would be refused, before anything
// is stopped or moved; nil when it would not (as things are now).
func (r *Registry) CheckRename(old, new string) error {
	_, _, _, err := r.renamePlan(old, new)
	return err
}

// renamePlan checks a rename of old to new and returns the account, the
// account it becomes, and the moves of its homes; r is left as it was.
func (r *Registry) renamePlan(old, new string) (a, na *Account, moves []Move, err error) {
	if err := projectfile.CheckAccountName(new); err != nil {
		return nil, nil, nil, err
	}
	if a, err = r.Get(old); err != nil {
		return nil, nil, nil, err
	}
	if _, ok := r.Accounts[new]; ok {
		return nil, nil, nil, fmt.Errorf("account %q exists already: pick another name, or remove it first (oca account remove %s)", new, new)
	}
	if a.Systemd {
		return nil, nil, nil, fmt.Errorf("account %s runs under systemd (unit %s): first oca systemd uninstall %s, then rename, then oca systemd install %s", old, "oca@"+old, old, new)
	}
	raw := a.raw
	homes := []struct {
		what     string
		cur, def string
		newDef   string
		dst      *string
	}{
		{"data home", a.DataHome, r.dirs.DefaultDataHome(old), r.dirs.DefaultDataHome(new), &raw.DataHome},
		{"state home", a.StateHome, r.dirs.DefaultStateHome(old), r.dirs.DefaultStateHome(new), &raw.StateHome},
		{"config dir", a.ConfigDir, r.dirs.DefaultConfigDir(old), r.dirs.DefaultConfigDir(new), &raw.ConfigDir},
	}
	for _, h := range homes {
		m := Move{What: h.what, From: h.cur, To: h.cur}
		if h.cur == h.def {
			m.To = h.newDef
			if *h.dst != "" { // "": the default, which follows the name
				*h.dst = r.dirs.Abbrev(h.newDef)
			}
			if _, err := os.Lstat(m.To); err == nil {
				return nil, nil, nil, fmt.Errorf("not renaming %s to %s: %s exists already (the %s of an earlier account %s?): move it away first", old, new, m.To, h.what, new)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, nil, fmt.Errorf("not renaming %s to %s: %w", old, new, err)
			}
		}
		moves = append(moves, m)
	}
	if rt := r.dirs.RuntimeDir(new); nonEmptyDir(rt, "lock") {
		return nil, nil, nil, fmt.Errorf("not renaming %s to %s: %s holds files of an earlier account %s: move it away first", old, new, rt, new)
	}
	na, ferr := r.account(new, raw, true)
	if ferr != nil {
		return nil, nil, nil, ferr
	}
	delete(r.Accounts, old)
	others := r.Names()
	r.Accounts[new] = na
	ferr = r.checkAgainstOthers(new, others, true)
	delete(r.Accounts, new)
	r.Accounts[old] = a
	if ferr != nil {
		return nil, nil, nil, ferr
	}
	return a, na, moves, nil
}

// runtimeMoved are the files of an account's runtime dir that a rename
// carries to the new name's: the server's password (clients that have it,
// a TUI attached with it, keep working with the new name's server) and
// its log. The lock stays with the directory it locks, the status names a
// supervisor that is gone, leases belong to shells that entered the old
// name, and tmp/ is OpenCode's scratch.
var runtimeMoved = []string{"password", "serve.log", "serve.log.1"}

// MoveRuntime carries the runtime dir of account old to new's (see
// runtimeMoved), then deletes old's. Both are locked by the caller.
func MoveRuntime(dirs Dirs, old, new string) error {
	from, to := dirs.RuntimeDir(old), dirs.RuntimeDir(new)
	if err := EnsurePrivateDir(to); err != nil {
		return err
	}
	for _, name := range runtimeMoved {
		err := os.Rename(filepath.Join(from, name), filepath.Join(to, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("moving %s of account %s: %w", name, old, err)
		}
	}
	return os.RemoveAll(from)
}

// nonEmptyDir reports whether dir holds anything but the entries named.
func nonEmptyDir(dir string, except ...string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !contains(except, e.Name()) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ProjectFilesNaming lists the project files that oca has judged (allowed
// or trusted; from the trust store's records) and that still name the
// account: after a rename they name an account the user no longer has.
// oca does not edit them: they are the user's (and often a repository's).
func ProjectFilesNaming(dirs Dirs, name string) []string {
	files := projectfile.Trust{Dir: dirs.TrustDir()}.Seen(name)
	var out []string
	for _, f := range files {
		data, err := projectfile.Read(f)
		if err != nil {
			continue
		}
		if pf, err := projectfile.Parse(f, data); err == nil && pf.Account == name {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}
