package atomicfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/testsys"
)

func TestWriteReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	for _, c := range []struct {
		data string
		perm os.FileMode
	}{{"one", 0o600}, {"two", 0o640}} {
		if err := atomicfile.Write(p, []byte(c.data), c.perm); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(got) != c.data || fi.Mode().Perm() != c.perm {
			t.Fatalf("got %q mode %v, want %q %v", got, fi.Mode().Perm(), c.data, c.perm)
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err := atomicfile.Write(filepath.Join(p+"-no", "f"), nil, 0o600); err == nil {
		t.Fatal("wrote into a directory that does not exist")
	}
}

// TestWriteOnFullDisk fills a real tmpfs: a write that fails with ENOSPC
// leaves the old file whole and no temporary file behind.
func TestWriteOnFullDisk(t *testing.T) {
	dir := testsys.Tmpfs(t, "64k")
	p := filepath.Join(dir, "status.json")
	old := bytes.Repeat([]byte("o"), 100)
	if err := atomicfile.Write(p, old, 0o600); err != nil {
		t.Fatal(err)
	}
	testsys.Fill(t, dir)
	err := atomicfile.Write(p, bytes.Repeat([]byte("n"), 8192), 0o600)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, old) {
		t.Fatalf("old file changed: %q", got)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "status.json" && e.Name() != ".filler" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
