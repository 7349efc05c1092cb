package account

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Create adds an account to the registry and makes it on disk first: its
// data home and state home (with their links), its config dir and its
// password. Run inside Update: the
// accounts file names the account only once all of that exists, and when a
// step fails (a full disk, a data home owned by someone else) or the file
// cannot be written, what Create made is removed again, so the account is
// either whole or not there.
func (r *Registry) Create(name string, opt AddOptions) (*Account, error) {
	a, err := r.Add(name, opt)
	if err != nil {
		return nil, err
	}
	undo := func() {}
	fail := func(err error) (*Account, error) {
		undo()
		delete(r.Accounts, name)
		return nil, err
	}
	for _, home := range []string{a.DataHome, a.StateHome} {
		if _, err := os.Lstat(home); errors.Is(err, fs.ErrNotExist) {
			prev := undo
			undo = func() { os.RemoveAll(home); prev() }
		}
	}
	if _, err := os.Lstat(a.ConfigDir); a.ConfigDir != "" && errors.Is(err, fs.ErrNotExist) {
		cdir, prev := a.ConfigDir, undo
		undo = func() { os.Remove(cdir); prev() } // made empty by Prepare: only if still empty
	}
	if err := Prepare(r.dirs, a); err != nil {
		return fail(err)
	}
	runtime := r.dirs.RuntimeDir(name)
	prev := undo
	if _, err := os.Lstat(runtime); errors.Is(err, fs.ErrNotExist) {
		undo = func() { os.RemoveAll(runtime); prev() }
	} else {
		undo = func() { os.Remove(PasswordFile(r.dirs, name)); prev() }
	}
	if _, err := Password(r.dirs, name); err != nil {
		return fail(err)
	}
	r.undo = append(r.undo, func() { undo(); delete(r.Accounts, name) })
	return a, nil
}

// rollback undoes what Create made, newest first.
func (r *Registry) rollback() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
	r.undo = nil
}

// Purge deletes a removed account's homes: its data home (its opencode/
// with the credentials and sessions, its links, and whatever else the
// account wrote there) and its state home, and returns what it deleted,
// one item a line. r is the registry without the account. It checks
// again, now, that each home is the account's alone: not another
// account's home, nor containing or inside one, nor HOME, the real data
// or state home or oca's own directories, nor owned by another user; then
// it deletes without following links, so no link leads it elsewhere. A
// home it refuses is left whole, and so is the state home when the data
// home is refused.
func Purge(r *Registry, a *Account) ([]string, error) {
	var done []string
	for _, h := range homesOf(r.dirs, a) {
		d, err := purgeHome(r, a, h)
		done = append(done, d...)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func purgeHome(r *Registry, a *Account, h home) ([]string, error) {
	path := h.path
	refuse := func(why string) ([]string, error) {
		return nil, fmt.Errorf("not deleting %s: %s; delete by hand what is the account's", path, why)
	}
	if msg := r.dirs.homeConflict(h.kind, path, true); msg != "" {
		return refuse(msg)
	}
	for _, name := range r.Names() {
		if name == a.Name {
			return refuse("account " + name + " is still in the accounts file")
		}
		o := r.Accounts[name]
		for _, theirs := range []home{{dataHome, o.DataHome, ""}, {stateHome, o.StateHome, ""}} {
			if rel := nesting(path, theirs.path, true); rel != "" {
				return refuse(fmt.Sprintf("it %s account %s's %s %s", rel, name, theirs.kind, theirs.path))
			}
		}
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("purging %s: %w", path, err)
	}
	if err := ownedByMe(h.kind, path, fi); err != nil {
		return refuse(err.Error())
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("purging %s: %w", path, err)
	}
	var done, others []string
	links := 0
	own := "/ (credentials, sessions, logs)"
	yours := "data"
	if h.kind == stateHome {
		own, yours = "/ (OpenCode's state)", "state"
	}
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return done, fmt.Errorf("purging %s: %w", path, err)
		}
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			links++
		case e.Name() == "opencode":
			done = append(done, p+own)
		case e.IsDir():
			others = append(others, e.Name()+"/")
		default:
			others = append(others, e.Name())
		}
	}
	if links > 0 {
		done = append(done, fmt.Sprintf("%s to your own %s in %s (the links only)", plural(links, "link"), yours, path))
	}
	if len(others) > 0 {
		done = append(done, "in "+path+": "+strings.Join(others, ", "))
	}
	if err := os.Remove(path); err != nil {
		return done, fmt.Errorf("purging %s: %w", path, err)
	}
	return append(done, path+"/"), nil
}

// plural is "1 link", "2 links".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
