package account

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/oca-sh/oca/internal/safepath"
	"github.com/oca-sh/oca/shells"
)

// EnsurePrivateDir creates dir (and its parents) with mode 0700 and refuses
// one that another user owns or that others may write to: oca keeps trust
// records and passwords there.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	return private(dir, fi)
}

// private refuses a file or directory of oca's that another user owns or
// that others may write to, saying how to mend it.
func private(path string, fi os.FileInfo) error {
	if err := safepath.Owned(path, fi); err != nil {
		return fmt.Errorf("%w: refusing to use it", err)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		mode := "600"
		if fi.IsDir() {
			mode = "700"
		}
		return fmt.Errorf("%s may be written by others (mode %04o): refusing it; mend with: chmod %s %s", path, fi.Mode().Perm(), mode, shells.Quote(path))
	}
	return nil
}

// portFree reports whether nothing listens on 127.0.0.1:port now: a
// listener can be made there, as net.Listen makes one (SO_REUSEADDR, so a
// connection in TIME_WAIT does not count). Written with syscall, not net:
// the hook's binary links this package, and need not link the network.
func portFree(port int) bool {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return false
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return false
	}
	return syscall.Listen(fd, 1) == nil
}

// Unreadable describes a path the user may not read (err is the failed
// open or read) and how to mend it: chmod to mode when the path is the
// user's own, chown back when it is another user's (made with sudo, say).
// The description names the cause alone, not the path again.
func Unreadable(path string, err error, mode string) (cause, fix string) {
	cause = err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err.Error()
	}
	fix = "chmod " + mode + " " + shells.Quote(path)
	fi, serr := os.Lstat(path)
	if serr != nil {
		return cause, fix
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Getuid() {
		return cause, fix
	}
	owner := strconv.Itoa(int(st.Uid))
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	return cause + " (it belongs to " + owner + ")", "sudo chown " + shells.Quote(currentUser()) + " " + shells.Quote(path) + " && " + fix
}

// currentUser is the name of the user running oca (their uid where the
// user database does not know it).
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}
