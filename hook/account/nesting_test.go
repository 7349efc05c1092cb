package account

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	state := d.DefaultStateHome("outer")
	want := []string{outer + "/opencode/ (credentials, sessions, logs)", "1 link to your own data in " + outer + " (the links only)", "in " + outer + ": notes", outer + "/", state + "/"}
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

// TestDataHomeOfAnotherUser: a data home (or a state home) that another
// local user owns is refused by Create (and the hook's Prepare), never
// chmod'ed, and the account is not added; Purge refuses to delete it.
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
	if _, err := Purge(r, &Account{Name: "b", DataHome: theirs, StateHome: d.DefaultStateHome("b")}); err == nil || !strings.Contains(err.Error(), "belongs to "+u.Name) {
		t.Fatalf("Purge of their directory = %v", err)
	}
	// Their directory as a state home: the same.
	err = Update(d, func(r *Registry) error {
		_, err := r.Create("b", AddOptions{Port: 12001, StateHome: theirs})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "belongs to "+u.Name) || !strings.Contains(err.Error(), "as a state home") {
		t.Fatalf("Create with another user's state home = %v", err)
	}
	if ents, _ := os.ReadDir(theirs); len(ents) != 1 {
		t.Fatalf("links made in their directory: %v", ents)
	}
	if _, err := os.Stat(d.DefaultDataHome("b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data home made for it was left: %v", err)
	}
	if _, err := Purge(r, &Account{Name: "b", DataHome: d.DefaultDataHome("b"), StateHome: theirs}); err == nil || !strings.Contains(err.Error(), "belongs to "+u.Name) {
		t.Fatalf("Purge of their directory as a state home = %v", err)
	}
	if _, err := os.Stat(filepath.Join(theirs, "mine")); err != nil {
		t.Fatalf("their file is gone: %v", err)
	}
}

// TestStateHomesNeverNest: a state home obeys the rules of data homes, with
// the real state home in the place of the real data home: within it, a
// state home lies under $XDG_STATE_HOME/oca/homes, away from oca's own
// files (trust records, passwords, stamps) and other programs' state. It
// may not nest with any account's data or state home, its own account's
// data home included.
func TestStateHomesNeverNest(t *testing.T) {
	d := testDirs(t)
	r, _ := Load(d)
	// Homes outside the real ones, where only the rules between accounts
	// hold.
	if _, err := r.Add("work", AddOptions{Port: 12000, DataHome: "~/wd", StateHome: "~/ws"}); err != nil {
		t.Fatal(err)
	}
	work, workData := filepath.Join(d.Home, "ws"), filepath.Join(d.Home, "wd")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(d.Home, "alias")
	if err := os.Symlink(work, alias); err != nil {
		t.Fatal(err)
	}
	real := d.StateHome()
	homes := filepath.Join(d.State, "homes")
	for _, tc := range []struct {
		home, data, msg string
		linked          bool
	}{
		{homes, "", "is " + homes + ", where oca makes each account's state home", false},
		{d.State, "", "contains " + homes + ", where oca makes each account's state home", false},
		{filepath.Join(d.State, "accounts", "zz"), "", "not inside " + homes, false},
		{filepath.Join(d.State, "trust"), "", "not inside " + homes, false},
		{filepath.Join(real, "nvim"), "", "among oca's files or other programs' state", false},
		{real, "", "is your own XDG_STATE_HOME", false},
		{filepath.Dir(real), "", "contains your own XDG_DATA_HOME", false},
		{"~", "", "state home " + d.Home + " is your home directory", false},
		{d.Data, "", "state home is your own XDG_DATA_HOME", false},
		{filepath.Join(d.Data, "oca", "accounts", "zz"), "", "lies inside your own XDG_DATA_HOME", false},
		{filepath.Join(d.Config, "zz"), "", "lies inside oca's config directory", false},
		{filepath.Join(work, "inner"), "", "lies inside account work's state home", false},
		{work, "", "state_home is also account work's", false},
		{workData, "", "is account work's data home", false},
		{filepath.Join(workData, "s"), "", "lies inside account work's data home", false},
		{alias, "", "state_home is also account work's", true},
		{filepath.Join(alias, "inner"), "", "lies inside account work's state home", true},
		// The data home's side: another's state home, or its own.
		{"", work, "data home " + work + " is account work's state home", false},
		{"", filepath.Join(work, "d"), "lies inside account work's state home", false},
		{"/srv/s/inner", "/srv/s", "state home /srv/s/inner lies inside the account's data home /srv/s", false},
		{"/srv/s", "/srv/s/inner", "state home /srv/s contains the account's data home /srv/s/inner", false},
	} {
		_, err := r.Add("zz", AddOptions{Port: 12001, StateHome: tc.home, DataHome: tc.data})
		delete(r.Accounts, "zz")
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Add with state home %q, data home %q = %v, want ~%q", tc.home, tc.data, err, tc.msg)
		}
		if tc.linked {
			continue
		}
		// The same in an edited file, with its line.
		table := "[accounts.zz]\nport = 12001\n"
		key := "accounts.zz.state_home"
		if tc.data != "" {
			table += "data_home = \"" + tc.data + "\"\n"
			key = "accounts.zz.data_home"
		}
		if tc.home != "" {
			table += "state_home = \"" + tc.home + "\"\n"
			key = "accounts.zz.state_home"
		}
		writeAccounts(t, d, "[accounts.work]\nport = 12000\ndata_home = \"~/wd\"\nstate_home = \"~/ws\"\n\n"+table)
		_, err = Load(d)
		var pe *projectfile.Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) || pe.Key != key {
			t.Errorf("Load with state home %q, data home %q = %v, want key %s ~%q", tc.home, tc.data, err, key, tc.msg)
		}
	}
	// An XDG_STATE_HOME apart from the data home's parent.
	d2, _ := DirsFrom(envOf(map[string]string{"HOME": d.Home, "XDG_STATE_HOME": filepath.Join(d.Home, "st", "state")}))
	if msg := d2.homeConflict(stateHome, filepath.Join(d.Home, "st"), false); !strings.Contains(msg, "contains your own XDG_STATE_HOME") {
		t.Errorf("a state home around XDG_STATE_HOME: %q", msg)
	}
	for _, ok := range []string{"~/.opencode_states/b", filepath.Join(homes, "b"), "/srv/oca/state/b"} {
		a, err := r.Add("b", AddOptions{Port: 12001, StateHome: ok})
		if err != nil {
			t.Errorf("Add with state home %s: %v", ok, err)
		} else if want, _ := d.Expand(ok); a.StateHome != want {
			t.Errorf("Add with state home %s: %s", ok, a.StateHome)
		}
		delete(r.Accounts, "b")
	}
}

// TestPurgeDeletesTheStateHome: --purge deletes the account's state home
// with its data home, its own opencode/ and the links, never their
// targets; a state home that another account's data home has come to lie
// in (through a link) is refused, and left whole.
func TestPurgeDeletesTheStateHome(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, "[accounts.a]\nport = 12000\nstate_home = \"~/sa\"\n\n[accounts.b]\nport = 12001\ndata_home = \"~/db\"\n")
	r, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(d.StateHome(), "nvim"))
	touch(t, filepath.Join(d.StateHome(), "nvim", "shada"), "keep")
	for _, a := range r.Accounts {
		if err := Prepare(d, a); err != nil {
			t.Fatal(err)
		}
	}
	sa := filepath.Join(d.Home, "sa")
	touch(t, filepath.Join(sa, "opencode", "server.json"), "{}")
	if readlink(t, filepath.Join(sa, "nvim")) != filepath.Join(d.StateHome(), "nvim") {
		t.Fatal("the state home does not link the user's nvim state")
	}
	db := filepath.Join(d.Home, "db")
	touch(t, filepath.Join(db, "opencode", "auth.json"), "{}")
	// b's data home moves inside a's state home, a link keeping its name.
	if err := os.Rename(db, filepath.Join(sa, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(sa, "moved"), db); err != nil {
		t.Fatal(err)
	}
	a, _ := r.Remove("a")
	got, err := Purge(r, a)
	if err == nil || !strings.Contains(err.Error(), "not deleting "+sa+": it contains account b's data home") {
		t.Fatalf("Purge = %q, %v; want a refusal of the state home", got, err)
	}
	if _, err := os.Stat(filepath.Join(sa, "moved", "opencode", "auth.json")); err != nil {
		t.Fatalf("b's auth.json is gone: %v", err)
	}
	os.Remove(db)
	os.Rename(filepath.Join(sa, "moved"), db)
	got, err = Purge(r, a)
	if err != nil {
		t.Fatal(err)
	}
	// 1 or 2 links, by the order the accounts were prepared in; the
	// number agrees with the noun either way.
	if s := strings.Join(got, "\n"); !strings.Contains(s, sa+"/opencode/ (OpenCode's state)") || !regexp.MustCompile(`\n(1 link|[2-9] links) to your own state in `+regexp.QuoteMeta(sa)+` \(the links only\)`).MatchString(s) || !strings.HasSuffix(s, "\n"+sa+"/") {
		t.Fatalf("Purge said\n%s", s)
	}
	if _, err := os.Stat(sa); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the state home is still there: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(d.StateHome(), "nvim", "shada")); err != nil || string(data) != "keep" {
		t.Fatalf("the link's target went with it: %q %v", data, err)
	}
}
