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
// data home (with its links) and its password. Run inside Update: the
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
	if _, err := os.Lstat(a.DataHome); errors.Is(err, fs.ErrNotExist) {
		home := a.DataHome
		undo = func() { os.RemoveAll(home) }
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

// Purge deletes a removed account's data home: its opencode/ (credentials,
// sessions), its links, and whatever else the account wrote there, and
// returns what it deleted, one item a line. r is the registry without the
// account. It checks again, now, that the data home is the account's alone:
// not another account's, nor containing or inside one, nor HOME, the real
// data home or oca's own directories, nor owned by another user; then it
// deletes without following links, so no link leads it elsewhere.
func Purge(r *Registry, a *Account) ([]string, error) {
	home := a.DataHome
	refuse := func(why string) ([]string, error) {
		return nil, fmt.Errorf("not deleting %s: %s; delete by hand what is the account's", home, why)
	}
	if msg := r.dirs.homeConflict(home, true); msg != "" {
		return refuse(msg)
	}
	for _, name := range r.Names() {
		if name == a.Name {
			return refuse("account " + name + " is still in the accounts file")
		}
		if rel := nesting(home, r.Accounts[name].DataHome, true); rel != "" {
			return refuse(fmt.Sprintf("it %s account %s's data home %s", rel, name, r.Accounts[name].DataHome))
		}
	}
	fi, err := os.Stat(home)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("purging %s: %w", home, err)
	}
	if err := ownedByMe(home, fi); err != nil {
		return refuse(err.Error())
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		return nil, fmt.Errorf("purging %s: %w", home, err)
	}
	var done, others []string
	links := 0
	for _, e := range entries {
		p := filepath.Join(home, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return done, fmt.Errorf("purging %s: %w", home, err)
		}
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			links++
		case e.Name() == "opencode":
			done = append(done, p+"/ (credentials, sessions, logs)")
		case e.IsDir():
			others = append(others, e.Name()+"/")
		default:
			others = append(others, e.Name())
		}
	}
	if links > 0 {
		done = append(done, fmt.Sprintf("%d links to your own data in %s (the links only)", links, home))
	}
	if len(others) > 0 {
		done = append(done, "in "+home+": "+strings.Join(others, ", "))
	}
	if err := os.Remove(home); err != nil {
		return done, fmt.Errorf("purging %s: %w", home, err)
	}
	return append(done, home+"/"), nil
}
