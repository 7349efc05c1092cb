package shim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

func TestStripAndPrepend(t *testing.T) {
	const d = "/h/.local/state/oca/shim"
	for _, tc := range []struct{ path, strip, prepend string }{
		{"/usr/bin:/bin", "/usr/bin:/bin", d + ":/usr/bin:/bin"},
		{d + ":/usr/bin:/bin", "/usr/bin:/bin", d + ":/usr/bin:/bin"},
		{"/x:" + d + ":/usr/bin", "/x:/usr/bin", d + ":/x:/usr/bin"},
		{d + ":/a:" + d, "/a", d + ":/a"},
		// Empty entries (the working directory) are the user's and stay.
		{":/a::/b:", ":/a::/b:", d + "::/a::/b:"},
		{d + "::/a", ":/a", d + "::/a"},
		{d + "x:/a", d + "x:/a", d + ":" + d + "x:/a"},
		{"", "", ""},
		{d, "", ""},
	} {
		if got := Strip(tc.path, d); got != tc.strip {
			t.Errorf("Strip(%q) = %q, want %q", tc.path, got, tc.strip)
		}
		if got := Prepend(tc.path, d); got != tc.prepend {
			t.Errorf("Prepend(%q) = %q, want %q", tc.path, got, tc.prepend)
		}
	}
}

func TestValid(t *testing.T) {
	for dir, want := range map[string]bool{
		"/h/.local/state/oca/shim": true, "/usr/bin": false, "": false, "oca/shim": false,
		"/h/oca/shim/": false, "/h/../oca/shim": false, "/oca/shimx": false,
	} {
		if Valid(dir) != want {
			t.Errorf("Valid(%q) = %v", dir, !want)
		}
	}
}

func TestEnsure(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "oca", "shim")
	self := filepath.Join(root, "oca-bin")
	testsys.WriteExecutable(t, self, []byte("#!/bin/sh\n"))
	for range 2 {
		if err := Ensure(dir, self); err != nil {
			t.Fatal(err)
		}
		if got, err := os.Readlink(filepath.Join(dir, Name)); err != nil || got != self {
			t.Fatalf("link = %q, %v", got, err)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	// oca moved: the link follows.
	moved := self + "2"
	if err := Ensure(dir, moved); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(dir, Name)); got != moved {
		t.Errorf("link = %q after a move, want %q", got, moved)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("shim dir holds %v, want the link alone", ents)
	}
	// A directory others may write to is refused.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir, self); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("Ensure in a 0777 directory: %v", err)
	}
	if err := Ensure(dir, "relative/oca"); err == nil {
		t.Error("Ensure took a relative path for oca")
	}
}

func TestReal(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string, mode os.FileMode) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	self := mk("bin/oca", 0o755)
	real := mk("npm/opencode", 0o755)
	mk("noexec/opencode", 0o644)
	shimDir := filepath.Join(root, "state/oca/shim")
	if err := Ensure(shimDir, self); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(root, "loop")
	if err := os.MkdirAll(loop, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(loop, Name)); err != nil {
		t.Fatal(err)
	}

	// The shim directory is skipped; a file that cannot run is too.
	got, err := Real("", shimDir+":"+filepath.Join(root, "noexec")+":"+filepath.Join(root, "npm"), self)
	if err != nil || got != filepath.Join(root, "npm", Name) {
		t.Errorf("Real = %q, %v; want the npm one", got, err)
	}
	// Configured wins over PATH.
	if got, err := Real(real, shimDir, self); err != nil || got != real {
		t.Errorf("Real(configured) = %q, %v", got, err)
	}
	// Nothing found.
	if _, err := Real("", shimDir, self); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Real with no opencode = %v", err)
	}
	// A link to oca elsewhere on PATH, or configured: an error naming it.
	for _, tc := range []struct{ configured, path string }{{"", loop + ":" + filepath.Join(root, "npm")}, {filepath.Join(loop, Name), ""}, {filepath.Join(shimDir, Name), ""}} {
		_, err := Real(tc.configured, tc.path, self)
		if !errors.Is(err, ErrSelf) || !strings.Contains(err.Error(), filepath.Join(filepath.Dir(tc.configured+tc.path), Name)) && !strings.Contains(err.Error(), loop) {
			t.Errorf("Real(%q, %q) = %v, want an error naming the link", tc.configured, tc.path, err)
		}
	}
	if _, err := Real(filepath.Join(root, "noexec", Name), "", self); err == nil || errors.Is(err, ErrSelf) {
		t.Errorf("Real(configured, not executable) = %v", err)
	}
}
