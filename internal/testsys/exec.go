package testsys

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// WriteExecutable writes a program (a binary, a script) that the test runs
// next. It holds syscall.ForkLock while the file is open for writing: a
// child forked meanwhile by another goroutine would inherit the file open
// for writing until it execs, and running the program in that moment fails
// with "text file busy" (golang/go#22315), as it did under load.
func WriteExecutable(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	syscall.ForkLock.Lock()
	err := os.WriteFile(path, data, 0o755)
	syscall.ForkLock.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// WriteFile keeps the mode of a file that was there.
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

// CopyExecutable copies the program at from to to, as WriteExecutable
// writes it.
func CopyExecutable(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	WriteExecutable(t, to, data)
}
