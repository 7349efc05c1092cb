// Package testsys gives tests real system faults and real other users: a
// small tmpfs to fill up (ENOSPC), a throwaway local user. Both need root;
// a test that needs them skips without it, and fails under CI=true. And
// what tests running side by side need: a block of ports of their own, a
// program written so that running it never meets "text file busy", and a
// Buffer that one goroutine writes while another reads it.
package testsys

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Tmpfs mounts a tmpfs of size bytes (e.g. "64k") on a new directory and
// unmounts it when the test ends.
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	RequireRoot(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs on %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes a file in dir until the filesystem is full (ENOSPC), and
// returns its path; removing it makes room again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, ".filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("fill %s: %v", dir, err)
	}
	defer f.Close()
	buf := make([]byte, 1024)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	// The last partial page, byte by byte.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return path
}

// User is a throwaway local user, for tests that play another user of the
// machine (a squatter on an account's port, the owner of a directory).
type User struct {
	Name     string
	UID, GID int
	Home     string
}

// AddUser creates a local user with a unique name and a home, and removes
// it, its home and every process left running as it when the test ends.
// It needs root (and useradd): without, the test skips, or fails under
// CI=true.
func AddUser(t testing.TB) *User {
	t.Helper()
	RequireRoot(t)
	if _, err := exec.LookPath("useradd"); err != nil {
		SkipOrFail(t, "useradd is not installed")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "oca" + hex.EncodeToString(b)
	// Tests in other packages may hold the lock on /etc/passwd a moment.
	out, err := retry(func() ([]byte, error) {
		return exec.Command("useradd", "--create-home", "--shell", "/bin/sh", name).CombinedOutput()
	})
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	// Killed before its cleanup, the test leaves the reaper to remove it.
	OnKill(t, "userdel", "--remove", name)
	lu, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("lookup %s: %v", name, err)
	}
	u := &User{Name: name, Home: lu.HomeDir}
	u.UID, _ = strconv.Atoi(lu.Uid)
	u.GID, _ = strconv.Atoi(lu.Gid)
	t.Cleanup(func() {
		out, err := retry(func() ([]byte, error) {
			u.killAll()
			return exec.Command("userdel", "--remove", name).CombinedOutput()
		})
		if err != nil {
			t.Errorf("userdel --remove %s: %v: %s", name, err, out)
		}
	})
	return u
}

// retry runs f until it succeeds, for 5 s at most.
func retry(f func() ([]byte, error)) ([]byte, error) {
	var out []byte
	var err error
	Poll(5*time.Second, func() bool {
		out, err = f()
		return err == nil
	})
	return out, err
}

// Command is a command that runs as the user (its uid, gid, and no other
// group), as runuser -u NAME would run it, in /.
func (u *User) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}}
	cmd.Dir = "/"
	return cmd
}

// Dir is a new directory (mode 0755) the user owns, removed when the test
// ends.
func (u *User) Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oca-other-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// killAll kills, one by one by pid, the processes that run as the user:
// the test started them all.
func (u *User) killAll() {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", e.Name()), &st) == nil && int(st.Uid) == u.UID {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
