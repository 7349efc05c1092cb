package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// tree makes dirs (relative to a new root, each with its mode) and returns
// the root. Modes are set after making them, so the umask plays no part.
func tree(t *testing.T, dirs ...any) string {
	t.Helper()
	root := t.TempDir()
	for i := 0; i < len(dirs); i += 2 {
		p := filepath.Join(root, dirs[i].(string))
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, dirs[i+1].(os.FileMode)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fault checks that err is a *Fault at path with problem pr.
func fault(t *testing.T, err error, path string, pr Problem) *Fault {
	t.Helper()
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("want a fault at %s, got %v", path, err)
	}
	if f.Path != path || f.Problem != pr {
		t.Fatalf("fault at %s (problem %d: %v), want at %s (problem %d)", f.Path, f.Problem, f, path, pr)
	}
	return f
}

func TestCheckModes(t *testing.T) {
	root := tree(t, "ok/cfg", os.FileMode(0o700), "ok", os.FileMode(0o755),
		"loose", os.FileMode(0o777), "loose/cfg", os.FileMode(0o700),
		"group", os.FileMode(0o775), "group/cfg", os.FileMode(0o700),
		"leaf/cfg", os.FileMode(0o777), "leaf", os.FileMode(0o755))
	up := Rule{Top: root, Mine: true, Sticky: true}
	if err := Check(filepath.Join(root, "ok/cfg"), up); err != nil {
		t.Errorf("a private dir below 0755: %v", err)
	}
	f := fault(t, Check(filepath.Join(root, "leaf/cfg"), up), filepath.Join(root, "leaf/cfg"), Writable)
	if f.Above() || f.Octal() != "0777" || !strings.Contains(f.Error(), "may be written by others (mode 0777)") {
		t.Errorf("the dir itself 0777: above %v, %s, %v", f.Above(), f.Octal(), f)
	}
	f = fault(t, Check(filepath.Join(root, "loose/cfg"), up), filepath.Join(root, "loose"), Writable)
	if !f.Above() || f.Checked != filepath.Join(root, "loose/cfg") {
		t.Errorf("a 0777 directory above: %+v", f)
	}
	fault(t, Check(filepath.Join(root, "group/cfg"), up), filepath.Join(root, "group"), Writable)
	// A loose directory above Top is not looked at.
	if err := Check(filepath.Join(root, "loose/cfg"), Rule{Top: filepath.Join(root, "loose/cfg")}); err != nil {
		t.Errorf("above Top: %v", err)
	}
}

// TestCheckSticky: a directory of root's with the sticky bit (/tmp) may
// lie above the path, never be the path itself, and only with Sticky.
func TestCheckSticky(t *testing.T) {
	testsys.RequireRoot(t) // the sticky directory must be root's
	root := tree(t, "tmp", 0o777|os.ModeSticky, "tmp/cfg", os.FileMode(0o700))
	cfg := filepath.Join(root, "tmp/cfg")
	if err := Check(cfg, Rule{Top: root, Mine: true, Sticky: true}); err != nil {
		t.Errorf("below a sticky 1777 dir of root's: %v", err)
	}
	f := fault(t, Check(cfg, Rule{Top: root, Mine: true}), filepath.Join(root, "tmp"), Writable)
	if f.Octal() != "1777" {
		t.Errorf("mode %s, want 1777", f.Octal())
	}
	fault(t, Check(filepath.Join(root, "tmp"), Rule{Top: root, Sticky: true}), filepath.Join(root, "tmp"), Writable)
	// Another user's sticky directory is another user's.
	if err := os.Chown(filepath.Join(root, "tmp"), 12345, 12345); err != nil {
		t.Fatal(err)
	}
	fault(t, Check(cfg, Rule{Top: root, Mine: true, Sticky: true}), filepath.Join(root, "tmp"), NotMine)
}

func TestCheckOwners(t *testing.T) {
	testsys.RequireRoot(t)
	u := testsys.AddUser(t)
	root := tree(t, "theirs", os.FileMode(0o700), "above/cfg", os.FileMode(0o700), "above", os.FileMode(0o755))
	theirs := filepath.Join(root, "theirs")
	if err := os.Chown(theirs, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	f := fault(t, Check(theirs, Rule{Top: root, Mine: true}), theirs, NotMine)
	if f.UID != u.UID || !strings.Contains(f.Error(), "belongs to "+u.Name+" (uid ") || !strings.Contains(f.Error(), "not to you (uid 0)") {
		t.Errorf("another user's dir: %v", f)
	}
	if err := os.Chown(filepath.Join(root, "above"), u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	f = fault(t, Check(filepath.Join(root, "above/cfg"), Rule{Top: root, Mine: true}), filepath.Join(root, "above"), NotMine)
	if !f.Above() {
		t.Errorf("a directory of another user's above: %+v", f)
	}
	fi, err := os.Stat(theirs)
	if err != nil {
		t.Fatal(err)
	}
	fault(t, Owned(theirs, fi), theirs, NotMine)
	fi, _ = os.Stat(root)
	if err := Owned(root, fi); err != nil {
		t.Errorf("Owned of the test's own dir: %v", err)
	}
}

// TestCheckLinks: a link above the path stands with Links, and then the
// path it leads to is checked too; without, it is a fault.
func TestCheckLinks(t *testing.T) {
	root := tree(t, "real/cfg", os.FileMode(0o700), "loose", os.FileMode(0o777), "loose/real/cfg", os.FileMode(0o700))
	good, bad := filepath.Join(root, "good"), filepath.Join(root, "bad")
	if err := os.Symlink(filepath.Join(root, "real"), good); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "loose/real"), bad); err != nil {
		t.Fatal(err)
	}
	links := Rule{Top: root, Mine: true, Links: true}
	if err := Check(filepath.Join(good, "cfg"), links); err != nil {
		t.Errorf("through a link to a good dir: %v", err)
	}
	fault(t, Check(filepath.Join(good, "cfg"), Rule{Top: root, Mine: true}), good, Link)
	f := fault(t, Check(filepath.Join(bad, "cfg"), links), filepath.Join(root, "loose"), Writable)
	if f.Checked != filepath.Join(root, "loose/real/cfg") || !f.Above() {
		t.Errorf("the fault names %s as checked, want the path the link leads to", f.Checked)
	}
	// The path itself a link: judged by its owner, whatever its mode.
	if err := Check(good, Rule{Top: root}); err != nil {
		t.Errorf("the path itself a link: %v", err)
	}
}

// TestCheckMissing: a path not made yet is judged by the directories it
// would be made in, the nearest one as a directory above it.
func TestCheckMissing(t *testing.T) {
	root := tree(t, "a", os.FileMode(0o755), "loose", os.FileMode(0o777))
	rule := Rule{Top: root, Mine: true, Missing: true}
	if err := Check(filepath.Join(root, "a/new/cfg"), rule); err != nil {
		t.Errorf("missing below a good dir: %v", err)
	}
	f := fault(t, Check(filepath.Join(root, "loose/new/cfg"), rule), filepath.Join(root, "loose"), Writable)
	if !f.Above() {
		t.Errorf("missing below a loose dir: %+v", f)
	}
	fault(t, Check(filepath.Join(root, "a/new"), Rule{Top: root}), filepath.Join(root, "a/new"), Unknown)
	// Through a link, to a directory not made yet.
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "loose"), link); err != nil {
		t.Fatal(err)
	}
	rule.Links = true
	fault(t, Check(filepath.Join(link, "new/cfg"), rule), filepath.Join(root, "loose"), Writable)
}
func TestWithin(t *testing.T) {
	for _, c := range []struct {
		path, dir string
		want      bool
	}{
		{"/a", "/a", true},
		{"/a/b", "/a", true},
		{"/a/b/c", "/a/", true},
		{"/ab", "/a", false},
		{"/a", "/a/b", false},
		{"/", "/", true},
		{"/x/y", "/", true},
		{"/x", "//", true},
		{"relative", "/", false},
		{"/home/u\n/x", "/home/u\n", true},
		{"/home/u", "/home/u\n", false},
	} {
		if got := Within(c.path, c.dir); got != c.want {
			t.Errorf("Within(%q, %q) = %v, want %v", c.path, c.dir, got, c.want)
		}
	}
}
