package account

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/projectfile"
)

// TestLoadRefusesEndlessFiles: an accounts file that is a FIFO (nobody
// writing) or a link to /dev/zero must not hang or eat memory: the hook
// loads the file at every prompt that runs oca, and a hang there is a hung
// shell. Load says what the path is, at once.
func TestLoadRefusesEndlessFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"dev zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDirs(t)
			if err := os.MkdirAll(d.Config, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(d.AccountsFile()); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Load(d); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				// Unblock a reader stuck on the FIFO before failing.
				if f, e := os.OpenFile(d.AccountsFile(), os.O_WRONLY|syscall.O_NONBLOCK, 0); e == nil {
					f.Close()
				}
				t.Fatalf("Load of a %s did not return", tc.name)
			}
			var pe *projectfile.Error
			if !errors.As(err, &pe) || pe.Path != d.AccountsFile() || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("Load = %v, want an error naming %s as not a regular file", err, d.AccountsFile())
			}
			// Update refuses it too, and leaves it as it is.
			if err := Update(d, func(r *Registry) error { _, err := r.Add("x", AddOptions{Port: 12000}); return err }); err == nil {
				t.Fatal("Update over a non-regular accounts file: no error")
			}
			if fi, err := os.Lstat(d.AccountsFile()); err != nil || fi.Mode().IsRegular() {
				t.Fatalf("the accounts file was replaced: %v %v", fi, err)
			}
		})
	}
}
