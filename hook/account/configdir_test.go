package account

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/safepath"
	"github.com/oca-sh/oca/internal/testsys"
)

// unsafeDir checks that CheckConfigDir refuses the account's config dir
// with exactly want, and returns the error.
func unsafeDir(t *testing.T, a *Account, want string) *UnsafeConfigDirError {
	t.Helper()
	err := CheckConfigDir(a)
	var u *UnsafeConfigDirError
	if !errors.As(err, &u) {
		t.Fatalf("CheckConfigDir(%s) = %v, want an UnsafeConfigDirError", a.ConfigDir, err)
	}
	if err.Error() != want {
		t.Errorf("CheckConfigDir(%s):\n got %s\nwant %s", a.ConfigDir, err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("more than one line: %q", err)
	}
	return u
}

func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// TestConfigDirOthersMayWrite: a config dir that group or others may
// write, or below a directory they may write, is refused in one line that
// names the directory at fault and the chmod that mends it; Mend is that
// chmod, and takes off nothing but the write bits.
func TestConfigDirOthersMayWrite(t *testing.T) {
	root := t.TempDir()
	cfg := filepath.Join(root, "loose", "cfg")
	mkdir(t, cfg)
	chmod(t, cfg, 0o700)
	a := &Account{Name: "work", ConfigDir: cfg}
	if err := CheckConfigDir(a); err != nil {
		t.Fatalf("a private config dir: %v", err)
	}

	chmod(t, cfg, 0o777)
	u := unsafeDir(t, a, "account work: config dir "+cfg+" may be written by others (mode 0777): refusing it; mend with: chmod go-w "+cfg)
	if err := u.Mend()(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o755 {
		t.Errorf("after Mend: mode %04o, want 0755", fi.Mode().Perm())
	}
	if err := CheckConfigDir(a); err != nil {
		t.Errorf("mended: %v", err)
	}

	// A directory above it, 0777 or group-writable: named as the ancestor.
	loose := filepath.Dir(cfg)
	for _, mode := range []os.FileMode{0o777, 0o775, 0o757} {
		chmod(t, loose, mode)
		mend := "chmod go-w " + loose
		unsafeDir(t, a, "account work: config dir "+cfg+": ancestor "+loose+" may be written by others (mode "+octal(mode)+"): refusing it; mend with: "+mend)
	}

	// Not made yet, below it: refused, and not made.
	a.ConfigDir = filepath.Join(loose, "new", "cfg")
	if err := EnsureConfigDir(a); err == nil || !strings.Contains(err.Error(), "ancestor "+loose+" may be written by others") {
		t.Errorf("EnsureConfigDir below a loose dir: %v", err)
	}
	if _, err := os.Lstat(filepath.Dir(a.ConfigDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("made below a loose dir: %v", err)
	}

	// Reached through a link of the user's, into a loose dir.
	chmod(t, loose, 0o755)
	other := filepath.Join(root, "other")
	mkdir(t, filepath.Join(other, "cfg"))
	chmod(t, filepath.Join(other, "cfg"), 0o700)
	chmod(t, other, 0o777)
	link := filepath.Join(root, "dotfiles")
	if err := os.Symlink(other, link); err != nil {
		t.Fatal(err)
	}
	a.ConfigDir = filepath.Join(link, "cfg")
	unsafeDir(t, a, "account work: config dir "+a.ConfigDir+": ancestor "+other+" may be written by others (mode 0777): refusing it; mend with: chmod go-w "+other)
	chmod(t, other, 0o755)
	if err := CheckConfigDir(a); err != nil {
		t.Errorf("through a link into a good dir: %v", err)
	}

	// Registry.Add refuses it as it stands, before anything is made.
	d := testDirs(t)
	chmod(t, cfg, 0o777)
	err := Update(d, func(r *Registry) error {
		_, err := r.Create("work", AddOptions{Port: 12001, ConfigDir: cfg})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "may be written by others (mode 0777)") {
		t.Errorf("Create with a 0777 config dir: %v", err)
	}
	if _, err := os.Stat(d.DefaultDataHome("work")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a data home was made: %v", err)
	}
}

// TestConfigDirBelowSticky: a directory of root's with the sticky bit
// (/tmp) may lie above a config dir; the config dir itself may not be
// such a directory.
func TestConfigDirBelowSticky(t *testing.T) {
	testsys.RequireRoot(t) // root must own the sticky directory
	tmp := filepath.Join(t.TempDir(), "tmp")
	mkdir(t, filepath.Join(tmp, "cfg"))
	chmod(t, filepath.Join(tmp, "cfg"), 0o700)
	chmod(t, tmp, 0o777|os.ModeSticky)
	a := &Account{Name: "work", ConfigDir: filepath.Join(tmp, "cfg")}
	if err := CheckConfigDir(a); err != nil {
		t.Errorf("below a sticky dir of root's: %v", err)
	}
	a.ConfigDir = tmp
	unsafeDir(t, a, "account work: config dir "+tmp+" may be written by others (mode 1777): refusing it; mend with: chmod go-w "+tmp)
}

// TestConfigDirOfAnotherUser: a config dir that another user owns, or
// below a directory of theirs, is refused in one line naming them; nothing
// of it is safe to mend without asking (no chown, no chmod of theirs).
func TestConfigDirOfAnotherUser(t *testing.T) {
	u := testsys.AddUser(t)
	theirs := u.Dir(t) // 0755, theirs
	a := &Account{Name: "work", ConfigDir: theirs}
	e := unsafeDir(t, a, "account work: config dir "+theirs+" belongs to "+u.Name+" (uid "+strconv.Itoa(u.UID)+"), not to you (uid 0): refusing it; mend with: sudo chown -R root "+theirs+" once you trust what it holds, or choose another config dir (--config-dir, or config_dir in accounts.toml)")
	if e.Mend() != nil {
		t.Error("Mend offered for another user's dir")
	}
	inside := filepath.Join(theirs, "cfg")
	mkdir(t, inside)
	chmod(t, inside, 0o700) // ours, in their directory
	a.ConfigDir = inside
	e = unsafeDir(t, a, "account work: config dir "+inside+": ancestor "+theirs+" belongs to "+u.Name+" (uid "+strconv.Itoa(u.UID)+"), not to you (uid 0): refusing it; mend with: choose another config dir (--config-dir, or config_dir in accounts.toml)")
	if e.Mend() != nil || e.Fault.Problem != safepath.NotMine {
		t.Errorf("a dir of ours in theirs: %+v", e.Fault)
	}
	// Their directory, 0777: still theirs, and never chmod'ed.
	chmod(t, theirs, 0o777)
	a.ConfigDir = theirs
	if e := unsafeDir(t, a, CheckConfigDir(a).Error()); e.Fault.Problem != safepath.NotMine || e.Mend() != nil {
		t.Errorf("their 0777 dir: %+v", e.Fault)
	}
}

func octal(m os.FileMode) string { return fmt.Sprintf("%04o", m.Perm()) }
