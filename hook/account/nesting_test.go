package account

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/projectfile"
)

// TestDataHomesNeverNest: a data home may not be, contain or lie inside
// another account's, nor be or contain HOME or the real data home, nor
// touch oca's config and state directories, nor lie among other programs'
// data; compared as written and, at add (and import, purge), as links
// resolve. Add, and the load of an edited file, refuse the same; the load
// compares paths as written only.
func TestDataHomesNeverNest(t *testing.T) {
	d := testDirs(t)
	r, _ := Load(d)
	if _, err := r.Add("work", AddOptions{Port: 12000}); err != nil {
		t.Fatal(err)
	}
	work := d.DefaultDataHome("work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(d.Home, "alias")
	if err := os.Symlink(work, alias); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		home, msg string
		linked    bool
	}{
		{filepath.Join(d.Data, "oca", "accounts"), "is " + filepath.Join(d.Data, "oca", "accounts") + ", where oca makes each account's data home", false},
		{filepath.Join(d.Data, "oca"), "contains " + filepath.Join(d.Data, "oca", "accounts") + ", where oca makes", false},
		{filepath.Join(work, "inner"), "lies inside account work's", false},
		{alias, "also account work's", true},
		{filepath.Join(alias, "inner"), "lies inside account work's", true},
		{"~", "is your home directory", false},
		{"/", "contains your home directory", false},
		{filepath.Dir(d.Home), "contains your home directory", false},
		{d.Data, "your own XDG_DATA_HOME", false},
		{filepath.Dir(d.Data), "contains your own XDG_DATA_HOME", false},
		{filepath.Join(d.Data, "nvim"), "among other programs' data", false},
		{d.Config, "oca's config directory", false},
		{filepath.Join(d.Config, "x"), "lies inside oca's config directory", false},
		{d.State, "oca's state directory", false},
		{filepath.Join(d.State, "accounts", "b"), "lies inside oca's state directory", false},
		{filepath.Dir(d.State), "contains oca's state directory", false},
	} {
		_, err := r.Add("zz", AddOptions{Port: 12001, DataHome: tc.home})
		delete(r.Accounts, "zz")
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Add with data home %s = %v, want ~%q", tc.home, err, tc.msg)
		}
		if tc.linked {
			continue
		}
		// The same in an edited file, with its line.
		writeAccounts(t, d, "[accounts.work]\nport = 12000\n\n[accounts.zz]\nport = 12001\ndata_home = \""+tc.home+"\"\n")
		_, err = Load(d)
		var pe *projectfile.Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) || pe.Key != "accounts.zz.data_home" {
			t.Errorf("Load with data home %s = %v, want key data_home ~%q", tc.home, err, tc.msg)
		}
	}
	for _, ok := range []string{"~/.opencode_accounts/b", filepath.Join(d.Data, "oca", "accounts", "b"), "/srv/oca/b"} {
		if _, err := r.Add("b", AddOptions{Port: 12001, DataHome: ok}); err != nil {
			t.Errorf("Add with data home %s: %v", ok, err)
		}
		delete(r.Accounts, "b")
	}
}

// TestPurgeChecksAgainAtPurgeTime: the data homes were apart when the
// accounts were loaded; by the time of the purge a link makes another
// account's data home lie inside the one to delete. Purge refuses and
// deletes nothing; apart again, it deletes the account's and says what.
func TestPurgeChecksAgainAtPurgeTime(t *testing.T) {
	d := testDirs(t)
	outer := filepath.Join(d.Home, "outer")
	other := filepath.Join(d.Home, "other")
	writeAccounts(t, d, "[accounts.outer]\nport = 12000\ndata_home = \"~/outer\"\n\n[accounts.other]\nport = 12001\ndata_home = \"~/other\"\n")
	r, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Accounts {
		if err := Prepare(d, a); err != nil {
			t.Fatal(err)
		}
	}
	auth := filepath.Join(other, "opencode", "auth.json")
	os.MkdirAll(filepath.Dir(auth), 0o700)
	os.WriteFile(auth, []byte("{}"), 0o600)
	os.MkdirAll(filepath.Join(outer, "opencode"), 0o700)
	// other's data home moves inside outer's, and a link keeps its name.
	if err := os.Rename(other, filepath.Join(outer, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outer, "moved"), other); err != nil {
		t.Fatal(err)
	}
	a, _ := r.Remove("outer")
	got, err := Purge(r, a)
	if err == nil || !strings.Contains(err.Error(), "contains account other's data home") || got != nil {
		t.Fatalf("Purge = %v, %v; want a refusal", got, err)
	}
	if _, err := os.Stat(auth); err != nil {
		t.Fatalf("other's auth.json is gone: %v", err)
	}
	// Apart again: outer's own goes, and Purge says what.
	os.Remove(other)
	os.Rename(filepath.Join(outer, "moved"), other)
	os.WriteFile(filepath.Join(outer, "notes"), nil, 0o600)
	os.Symlink(auth, filepath.Join(outer, "a-link"))
	got, err = Purge(r, a)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{outer + "/opencode/ (credentials, sessions, logs)", "1 links to your own data in " + outer + " (the links only)", "in " + outer + ": notes", outer + "/"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Purge said\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(outer); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("outer's data home still there: %v", err)
	}
	if _, err := os.Stat(auth); err != nil {
		t.Fatalf("the link's target went with it: %v", err)
	}
}

// TestDataHomeOfAnotherUser: a data home that another local user owns is
// refused by Create (and the hook's Prepare), never chmod'ed, and the
// account is not added; Purge refuses to delete it.
func TestDataHomeOfAnotherUser(t *testing.T) {
	u := testsys.AddUser(t)
	d := testDirs(t)
	theirs := filepath.Join(u.Home, "theirs")
	// Their directory, made by them; we are root and could chmod it, but
	// must not.
	if out, err := exec.Command("runuser", "-u", u.Name, "--", "sh", "-c", "umask 022; mkdir "+theirs+" && touch "+theirs+"/mine").CombinedOutput(); err != nil {
		t.Fatalf("runuser: %v: %s", err, out)
	}
	err := Update(d, func(r *Registry) error {
		_, err := r.Create("b", AddOptions{Port: 12001, DataHome: theirs})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "belongs to "+u.Name) {
		t.Fatalf("Create with another user's data home = %v", err)
	}
	fi, _ := os.Stat(theirs)
	if fi.Mode().Perm() != 0o755 || fi.Sys().(*syscall.Stat_t).Uid != uint32(u.UID) {
		t.Fatalf("their directory changed: %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(theirs); len(ents) != 1 {
		t.Fatalf("links made in their directory: %v", ents)
	}
	r, err := Load(d)
	if err != nil || len(r.Accounts) != 0 {
		t.Fatalf("the account was added anyway: %v %v", err, r.Names())
	}
	if _, err := os.Stat(PasswordFile(d, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a password was left: %v", err)
	}
	if _, err := Purge(r, &Account{Name: "b", DataHome: theirs}); err == nil || !strings.Contains(err.Error(), "belongs to "+u.Name) {
		t.Fatalf("Purge of their directory = %v", err)
	}
	if _, err := os.Stat(filepath.Join(theirs, "mine")); err != nil {
		t.Fatalf("their file is gone: %v", err)
	}
}
