package regularfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRead: a regular file is read whole up to the limit; everything else
// is refused at once, saying what it is, and nothing waits.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	bigContent := strings.Repeat("0123456789", 500)
	if err := os.WriteFile(big, []byte(bigContent), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifolink")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		limit  int64
		follow Follow
		want   string // the content, or the error's text
	}{
		{file, 10, NoLinks, "0123456789"},
		{file, 9, NoLinks, file + " is larger than 9 bytes"},
		{big, 5000, NoLinks, bigContent},
		{big, 4999, NoLinks, big + " is larger than 4999 bytes"},
		{big, 700, NoLinks, big + " is larger than 700 bytes"},
		{link, 10, FollowLinks, "0123456789"},
		{link, 10, NoLinks, link + " is a symbolic link, not a regular file"},
		{fifo, 10, NoLinks, fifo + " is a FIFO, not a regular file"},
		{fifoLink, 10, FollowLinks, fifoLink + " is a FIFO, not a regular file"},
		{dir, 10, FollowLinks, dir + " is a directory, not a regular file"},
		{"/dev/zero", 10, FollowLinks, "/dev/zero is a device, not a regular file"},
	} {
		done := make(chan struct{})
		var data []byte
		var fi fs.FileInfo
		var err error
		go func() {
			data, fi, err = Read(tc.path, tc.limit, tc.follow)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Read(%s) still waits after 10 s", tc.path)
		}
		got := string(data)
		if refused := err != nil && !errors.Is(err, fs.ErrNotExist); Refused(err) != refused {
			t.Errorf("Refused(Read(%s)) = %v, want %v", tc.path, Refused(err), refused)
		}
		if err != nil {
			got = err.Error()
		} else if fi == nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
			t.Errorf("Read(%s): FileInfo %v does not describe what was read", tc.path, fi)
		}
		if got != tc.want {
			t.Errorf("Read(%s, %d, %v) = %q, want %q", tc.path, tc.limit, tc.follow, got, tc.want)
		}
	}
	// A file longer than its size says (the kernel's files say 0) is read
	// whole all the same, and still bounded by the limit.
	if data, _, err := Read("/proc/self/status", 1<<20, FollowLinks); err != nil || !strings.HasPrefix(string(data), "Name:") || !strings.Contains(string(data), "\nPid:") {
		t.Errorf("/proc/self/status: %v, %q", err, data)
	}
	var tl *TooLargeError
	if _, _, err := Read("/proc/self/status", 100, FollowLinks); !errors.As(err, &tl) {
		t.Errorf("/proc/self/status with a limit of 100: %v, want a *TooLargeError", err)
	}
	if _, _, err := Read(filepath.Join(dir, "missing"), 10, NoLinks); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want an error that is fs.ErrNotExist", err)
	}
	var nr *NotRegularError
	if _, _, err := Read(fifo, 10, NoLinks); !errors.As(err, &nr) || nr.Mode&fs.ModeNamedPipe == 0 || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("a FIFO: %v, want a *NotRegularError with its mode", err)
	}
}
