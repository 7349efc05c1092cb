package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/oca-sh/oca/internal/procfs"

	"golang.org/x/sys/unix"
)

// ErrLocked is what AcquireLock returns when another supervisor holds the
// account's lock.
var ErrLocked = errors.New("a supervisor is already running for this account")

const lockName = "lock"

// openLockFile opens StateDir/lock, creating StateDir (0700) and the file
// (0600) when missing. The descriptor is close-on-exec, so OpenCode never
// inherits the lock.
func openLockFile(stateDir string) (*os.File, error) {
	path := filepath.Join(stateDir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	return f, nil
}

// LockHeld probes the lock: true when a supervisor (or StopAndLock) holds
// it. The probe takes it shared, for a moment: other probes may hold it
// too, a supervisor's exclusive hold excludes it, and /proc/locks tells a
// probe (READ) from a holder (WRITE).
func LockHeld(stateDir string) (bool, error) {
	f, err := openLockFile(stateDir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe lock: %w", err)
	}
	// Closing the file releases the lock.
	return false, nil
}

// AcquireLock takes the lock for the supervisor's lifetime and writes the
// supervisor's pid into the lock file. Probes (Ensure, Stop) hold the lock
// for microseconds, so a lock they hold is tried again for up to wait
// before ErrLocked; one that another supervisor (or StopAndLock) holds is
// ErrLocked at once.
func AcquireLock(stateDir string, wait time.Duration) (*os.File, error) {
	f, err := openLockFile(stateDir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("take lock: %w", err)
		}
		// A probe's shared lock goes within microseconds; another
		// supervisor's exclusive one stays, and is not waited for: this
		// one would take over the moment that one stopped, even for a
		// stop (two started at once, by the hook and the shim, say).
		if time.Now().After(deadline) || LockHolder(stateDir) > 0 {
			f.Close()
			return nil, ErrLocked
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The lock file keeps its inode (a rename would break the lock), so it
	// is rewritten in place; it only ever holds a pid.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// LockHolder returns the pid holding the lock exclusively (a supervisor,
// or StopAndLock; never a probe), as /proc/locks tells, or 0.
// (The pid in the lock file is only a hint for people: it may name a
// process long gone, and its pid may be reused.)
func LockHolder(stateDir string) int {
	return procfs.FlockWriter(filepath.Join(stateDir, lockName))
}
