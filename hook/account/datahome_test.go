package account

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func touch(t *testing.T, p, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readlink(t *testing.T, p string) string {
	t.Helper()
	s, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	return s
}

func TestSyncLinks(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "share")
	shadow := filepath.Join(real, "oca", "accounts", "work")
	mkdir(t, shadow)
	mkdir(t, filepath.Join(real, "direnv", "allow"))
	mkdir(t, filepath.Join(real, "nvim"))
	mkdir(t, filepath.Join(real, "opencode"))
	touch(t, filepath.Join(real, "recently-used.xbel"), "x")
	if err := os.Symlink("/nowhere", filepath.Join(real, "dangling")); err != nil {
		t.Fatal(err)
	}
	// The account's own entries, and a link the user made.
	mkdir(t, filepath.Join(shadow, "opencode"))
	touch(t, filepath.Join(shadow, "nvim"), "the account's own nvim file")
	if err := os.Symlink("/elsewhere", filepath.Join(shadow, "mise")); err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(real, "mise"))

	if err := SyncLinks(real, shadow); err != nil {
		t.Fatal(err)
	}
	entries := func() []string {
		es, _ := os.ReadDir(shadow)
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	if got, want := entries(), []string{"dangling", "direnv", "mise", "nvim", "opencode", "recently-used.xbel"}; !slices.Equal(got, want) {
		t.Fatalf("shadow holds %v, want %v", got, want)
	}
	for _, name := range []string{"direnv", "recently-used.xbel", "dangling"} {
		if got := readlink(t, filepath.Join(shadow, name)); got != filepath.Join(real, name) {
			t.Errorf("%s -> %q", name, got)
		}
	}
	// opencode/ stays the account's own; "oca" (which holds the shadow) is
	// not linked; entries that are not links are untouched; the user's link
	// is kept.
	if fi, err := os.Lstat(filepath.Join(shadow, "opencode")); err != nil || !fi.IsDir() {
		t.Errorf("opencode: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(filepath.Join(shadow, "nvim")); string(data) != "the account's own nvim file" {
		t.Errorf("nvim file changed: %q", data)
	}
	if got := readlink(t, filepath.Join(shadow, "mise")); got != "/elsewhere" {
		t.Errorf("user's link changed to %q", got)
	}
	// Reached through a link, direnv's data is the real one.
	touch(t, filepath.Join(shadow, "direnv", "allow", "h"), "")
	if _, err := os.Stat(filepath.Join(real, "direnv", "allow", "h")); err != nil {
		t.Error("write through the link did not reach the real data home")
	}

	// Idempotent.
	if err := SyncLinks(real, shadow); err != nil {
		t.Fatal(err)
	}
	// An entry gone from the real data home loses its link; a new one gains
	// one; a link to elsewhere and the account's files stay.
	if err := os.RemoveAll(filepath.Join(real, "direnv")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(real, "dangling"))
	mkdir(t, filepath.Join(real, "zoxide"))
	os.RemoveAll(filepath.Join(real, "mise"))
	if err := SyncLinks(real, shadow); err != nil {
		t.Fatal(err)
	}
	if got, want := entries(), []string{"mise", "nvim", "opencode", "recently-used.xbel", "zoxide"}; !slices.Equal(got, want) {
		t.Fatalf("after changes shadow holds %v, want %v", got, want)
	}
	if got := readlink(t, filepath.Join(shadow, "zoxide")); got != filepath.Join(real, "zoxide") {
		t.Errorf("zoxide -> %q", got)
	}

	// A real data home that does not exist: nothing to do.
	if err := SyncLinks(filepath.Join(root, "none"), shadow); err != nil {
		t.Fatal(err)
	}
}

func TestSyncLinksShadowOutsideReal(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "share")
	shadow := filepath.Join(root, ".opencode_accounts", "work")
	mkdir(t, filepath.Join(real, "oca"))
	mkdir(t, filepath.Join(real, "direnv"))
	mkdir(t, shadow)
	if err := SyncLinks(real, shadow); err != nil {
		t.Fatal(err)
	}
	// Outside the real data home, its oca/ is linked like any other entry.
	for _, n := range []string{"oca", "direnv"} {
		if got := readlink(t, filepath.Join(shadow, n)); got != filepath.Join(real, n) {
			t.Errorf("%s -> %q", n, got)
		}
	}
}

func TestPrepare(t *testing.T) {
	d := testDirs(t)
	mkdir(t, filepath.Join(d.Data, "direnv"))
	a := &Account{Name: "work", DataHome: d.DefaultDataHome("work"), StateHome: d.DefaultStateHome("work")}
	if err := Prepare(d, a); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(a.DataHome)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data home: %v %v", fi, err)
	}
	if got := readlink(t, filepath.Join(a.DataHome, "direnv")); got != filepath.Join(d.Data, "direnv") {
		t.Fatalf("direnv -> %q", got)
	}
	// A loose existing data home is closed.
	if err := os.Chmod(a.DataHome, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(d, a); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(a.DataHome); fi.Mode().Perm() != 0o700 {
		t.Fatalf("data home mode %v", fi.Mode())
	}
}

func TestPassword(t *testing.T) {
	d := testDirs(t)
	if got := ReadPassword(d, "work"); got != "" {
		t.Fatalf("ReadPassword before any: %q", got)
	}
	pw, err := Password(d, "work")
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) < 16 || strings.ContainsAny(pw, " \n\t'\"$\\") {
		t.Fatalf("password %q", pw)
	}
	fi, err := os.Stat(PasswordFile(d, "work"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi, err)
	}
	di, err := os.Stat(filepath.Dir(PasswordFile(d, "work")))
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("password dir: %v %v", di, err)
	}
	for range 3 {
		if again, err := Password(d, "work"); err != nil || again != pw {
			t.Fatalf("second Password = %q, %v; want %q", again, err, pw)
		}
	}
	if got := ReadPassword(d, "work"); got != pw {
		t.Fatalf("ReadPassword = %q", got)
	}
	if other, _ := Password(d, "play"); other == pw {
		t.Fatal("two accounts share a password")
	}
	// A truncated file gets a new password.
	if err := os.WriteFile(PasswordFile(d, "work"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if again, err := Password(d, "work"); err != nil || again == "short" || len(again) < 16 {
		t.Fatalf("Password over a short file = %q, %v", again, err)
	}
}

func TestScan(t *testing.T) {
	root := t.TempDir()
	seed := filepath.Join(root, ".opencode_accounts")
	mkdir(t, filepath.Join(seed, "work", "opencode"))
	mkdir(t, filepath.Join(seed, "play", "opencode"))
	mkdir(t, filepath.Join(seed, "empty"))
	touch(t, filepath.Join(seed, "notes.txt"), "")
	touch(t, filepath.Join(seed, "fileonly", "opencode"), "not a dir")

	found, err := Scan(seed)
	if err != nil {
		t.Fatal(err)
	}
	want := []Found{{Name: "play", DataHome: filepath.Join(seed, "play")}, {Name: "work", DataHome: filepath.Join(seed, "work")}}
	if !slices.Equal(found, want) {
		t.Fatalf("Scan = %+v, want %+v", found, want)
	}
	// One account directory itself.
	found, err = Scan(filepath.Join(seed, "work"))
	if err != nil || !slices.Equal(found, want[1:]) {
		t.Fatalf("Scan(work) = %+v, %v", found, err)
	}
	// Relative to the working directory.
	t.Chdir(seed)
	found, err = Scan("play")
	if err != nil || !slices.Equal(found, want[:1]) {
		t.Fatalf("Scan(relative) = %+v, %v", found, err)
	}
	// Nothing there.
	if _, err := Scan(filepath.Join(seed, "empty")); err == nil || !strings.Contains(err.Error(), "no account in") {
		t.Fatalf("Scan(empty) = %v", err)
	}
	if _, err := Scan(filepath.Join(root, "missing")); err == nil {
		t.Fatal("Scan(missing): no error")
	}
}

func TestEnsurePrivateDir(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "a", "b")
	if err := EnsurePrivateDir(d); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{d, filepath.Dir(d)} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v", p, fi.Mode())
		}
	}
	if err := EnsurePrivateDir(d); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		os.Chmod(d, mode)
		if err := EnsurePrivateDir(d); err == nil || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("mode %o: %v", mode, err)
		}
	}
	os.Chmod(d, 0o755) // readable by others is fine
	if err := EnsurePrivateDir(d); err != nil {
		t.Errorf("mode 0755: %v", err)
	}
	touch(t, filepath.Join(root, "file"), "")
	if err := EnsurePrivateDir(filepath.Join(root, "file")); err == nil {
		t.Error("a file as a directory: no error")
	}
	if os.Getuid() == 0 {
		other := filepath.Join(root, "other")
		mkdir(t, other)
		os.Chmod(other, 0o700)
		if err := os.Chown(other, 12345, 12345); err != nil {
			t.Fatal(err)
		}
		if err := EnsurePrivateDir(other); err == nil || !strings.Contains(err.Error(), "uid 12345") {
			t.Errorf("a directory of another user: %v", err)
		}
	}
}

func TestPasswordConcurrent(t *testing.T) {
	// Many shells entering a project at once must all export the password
	// that ends up in the file, the one the server reads.
	for round := range 20 {
		d := testDirs(t)
		const n = 8
		got := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				pw, err := Password(d, "work")
				if err != nil {
					t.Error(err)
				}
				got[i] = pw
			})
		}
		wg.Wait()
		file := ReadPassword(d, "work")
		for i, pw := range got {
			if pw != file {
				t.Fatalf("round %d: caller %d got %q, the file holds %q", round, i, pw, file)
			}
		}
		if es, _ := os.ReadDir(filepath.Dir(PasswordFile(d, "work"))); len(es) != 1 {
			t.Fatalf("round %d: the runtime dir holds %v, want the password alone", round, es)
		}
	}
}

// TestSyncLinksMovesWhatOthersMade: an entry another program made in an
// account's home (direnv's first allow inside a project) and that the
// user's real home lacks is moved there whole, and linked in its place; an
// entry both hold, the account's opencode/ and the user's own links stay as
// they are.
func TestSyncLinksMovesWhatOthersMade(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "share")
	shadow := filepath.Join(real, "oca", "accounts", "work")
	mkdir(t, shadow)
	mkdir(t, filepath.Join(real, "nvim"))
	touch(t, filepath.Join(real, "mise", "theirs"), "real mise")
	if err := SyncLinks(real, shadow); err != nil {
		t.Fatal(err)
	}
	// Inside a project, programs made these in the account's home.
	touch(t, filepath.Join(shadow, "direnv", "allow", "h"), "/p/.envrc")
	touch(t, filepath.Join(shadow, "zoxide", "db.zo"), "db")
	touch(t, filepath.Join(shadow, "recently-used.xbel"), "x")
	touch(t, filepath.Join(shadow, "opencode", "auth.json"), "{}")
	os.Remove(filepath.Join(shadow, "mise"))
	touch(t, filepath.Join(shadow, "mise", "ours"), "shadow mise") // both hold mise now
	if err := os.Symlink("/elsewhere", filepath.Join(shadow, "mine")); err != nil {
		t.Fatal(err)
	}
	// An open file keeps working through the move.
	f, err := os.OpenFile(filepath.Join(shadow, "zoxide", "db.zo"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	strays, err := Strays(real, shadow)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Stray{{"direnv", false}, {"mise", true}, {"recently-used.xbel", false}, {"zoxide", false}}; !slices.Equal(strays, want) {
		t.Fatalf("Strays = %v, want %v", strays, want)
	}
	if err := SyncLinks(real, shadow); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"direnv", "zoxide", "recently-used.xbel", "nvim"} {
		if got := readlink(t, filepath.Join(shadow, n)); got != filepath.Join(real, n) {
			t.Errorf("%s -> %q, want a link to the real one", n, got)
		}
	}
	if data, err := os.ReadFile(filepath.Join(real, "direnv", "allow", "h")); err != nil || string(data) != "/p/.envrc" {
		t.Errorf("direnv's record in the real data home: %q %v", data, err)
	}
	if _, err := f.WriteString("+more"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(real, "zoxide", "db.zo")); string(data) != "db+more" {
		t.Errorf("a file open across the move: %q", data)
	}
	// Both hold mise: nothing moves, nothing merges.
	if data, _ := os.ReadFile(filepath.Join(shadow, "mise", "ours")); string(data) != "shadow mise" {
		t.Errorf("the account's mise changed: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(real, "mise", "theirs")); string(data) != "real mise" {
		t.Errorf("the user's mise changed: %q", data)
	}
	if _, err := os.Stat(filepath.Join(real, "mise", "ours")); err == nil {
		t.Error("mise was merged")
	}
	if _, err := os.Lstat(filepath.Join(real, "opencode")); err == nil {
		t.Error("the account's opencode/ was moved")
	}
	if got := readlink(t, filepath.Join(shadow, "mine")); got != "/elsewhere" {
		t.Errorf("the user's link -> %q", got)
	}
	if _, err := os.Lstat(filepath.Join(real, "mine")); err == nil {
		t.Error("the user's link was moved")
	}
	if strays, _ := Strays(real, shadow); !slices.Equal(strays, []Stray{{"mise", true}}) {
		t.Errorf("after: Strays = %v", strays)
	}
	// A real home not there yet is made, 0700, to take them.
	real2 := filepath.Join(root, "fresh", "share")
	shadow2 := filepath.Join(root, "acct")
	touch(t, filepath.Join(shadow2, "direnv", "allow", "h"), "")
	if err := SyncLinks(real2, shadow2); err != nil {
		t.Fatal(err)
	}
	if got := readlink(t, filepath.Join(shadow2, "direnv")); got != filepath.Join(real2, "direnv") {
		t.Errorf("direnv -> %q", got)
	}
	if fi, err := os.Stat(real2); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the real home made: %v %v", fi, err)
	}
}

// TestSyncLinksAcrossFileSystems: the account's home on one file system,
// the user's real one on another (rename gives EXDEV): nothing is moved or
// copied, and the error names each entry and the mv that shares it.
func TestSyncLinksAcrossFileSystems(t *testing.T) {
	real := filepath.Join(t.TempDir(), "share")
	mkdir(t, filepath.Join(real, "nvim"))
	shadow := filepath.Join(testsys.Tmpfs(t, "1m"), "work")
	touch(t, filepath.Join(shadow, "direnv", "allow", "h"), "")
	touch(t, filepath.Join(shadow, "zoxide", "db.zo"), "")
	err := SyncLinks(real, shadow)
	var se *StrandedError
	if !errors.As(err, &se) || !slices.Equal(se.Names, []string{"direnv", "zoxide"}) || se.Home != shadow || se.Real != real {
		t.Fatalf("SyncLinks = %#v, want a StrandedError naming direnv and zoxide", err)
	}
	msg := err.Error()
	for _, want := range []string{"another file system", "mv -n " + filepath.Join(shadow, "direnv") + " " + filepath.Join(shadow, "zoxide") + " " + real + "/"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message %q is not one line", msg)
	}
	// Nothing moved, nothing half-copied; the links are made all the same.
	if fi, err := os.Lstat(filepath.Join(shadow, "direnv")); err != nil || !fi.IsDir() {
		t.Errorf("direnv in the account's home: %v %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(real, "direnv")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("direnv in the real home: %v", err)
	}
	if got := readlink(t, filepath.Join(shadow, "nvim")); got != filepath.Join(real, "nvim") {
		t.Errorf("nvim -> %q", got)
	}
	// Through PrepareHomes, the error names the account and the home, and
	// the rest is done.
	d := testDirs(t)
	a := &Account{Name: "work", DataHome: d.DefaultDataHome("work"), StateHome: filepath.Join(testsys.Tmpfs(t, "1m"), "state")}
	touch(t, filepath.Join(a.StateHome, "nvim", "shada"), "")
	stranded, err := PrepareHomes(d, a)
	if err != nil || len(stranded) != 1 || stranded[0].Account != "work" || stranded[0].Kind != "state home" {
		t.Fatalf("PrepareHomes = %+v, %v", stranded, err)
	}
	if m := stranded[0].Message(func(s string) string { return "<" + s + ">" }); !strings.HasPrefix(m, "account work: nvim in the state home "+a.StateHome) ||
		!strings.Contains(m, "mv -n <"+filepath.Join(a.StateHome, "nvim")+"> <"+d.StateHome()+">/") {
		t.Errorf("Message = %q", m)
	}
	if fi, err := os.Stat(a.DataHome); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data home: %v %v", fi, err)
	}
	// Prepare (account add, server start) takes it for no error.
	if err := Prepare(d, a); err != nil {
		t.Errorf("Prepare = %v", err)
	}
}

// TestPrepareHomes: both homes made 0700, each with links to the user's
// real one (the state home's: nvim's shada, less's history), never to the
// entry that holds it.
func TestPrepareHomes(t *testing.T) {
	d := testDirs(t)
	mkdir(t, filepath.Join(d.Data, "direnv"))
	mkdir(t, filepath.Join(d.StateHome(), "nvim"))
	touch(t, filepath.Join(d.StateHome(), "lesshst"), "")
	mkdir(t, filepath.Join(d.StateHome(), "opencode"))
	a := &Account{Name: "work", DataHome: d.DefaultDataHome("work"), StateHome: d.DefaultStateHome("work")}
	if stranded, err := PrepareHomes(d, a); err != nil || stranded != nil {
		t.Fatal(stranded, err)
	}
	for _, h := range []string{a.DataHome, a.StateHome} {
		if fi, err := os.Stat(h); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", h, fi, err)
		}
	}
	if got := readlink(t, filepath.Join(a.DataHome, "direnv")); got != filepath.Join(d.Data, "direnv") {
		t.Errorf("direnv -> %q", got)
	}
	es, _ := os.ReadDir(a.StateHome)
	var names []string
	for _, e := range es {
		names = append(names, e.Name()+"->"+readlink(t, filepath.Join(a.StateHome, e.Name())))
	}
	want := []string{"lesshst->" + filepath.Join(d.StateHome(), "lesshst"), "nvim->" + filepath.Join(d.StateHome(), "nvim")}
	if !slices.Equal(names, want) {
		t.Errorf("state home holds %v, want %v", names, want)
	}
}
