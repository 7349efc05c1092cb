package supervisor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oca-sh/oca/internal/procfs"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning is returned by Serve when another supervisor holds the
// account's lock.
var ErrAlreadyRunning = errors.New("a supervisor is already running for this account")

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

// lockHeld probes the lock: true when a supervisor (or StopAndLock) holds
// it. The probe takes it shared, for a moment: other probes may hold it
// too, a supervisor's exclusive hold excludes it, and /proc/locks tells a
// probe (READ) from a holder (WRITE).
func lockHeld(stateDir string) (bool, error) {
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

// acquireLock takes the lock for the supervisor's lifetime and writes the
// supervisor's pid into the lock file. Probes (Ensure, Stop) hold the lock
// for microseconds, so a busy lock is tried again for up to wait before
// ErrAlreadyRunning.
func acquireLock(stateDir string, wait time.Duration) (*os.File, error) {
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
		if time.Now().After(deadline) {
			f.Close()
			return nil, ErrAlreadyRunning
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

// lockHolder returns the pid holding the lock exclusively (a supervisor,
// or StopAndLock; never a probe), as /proc/locks tells, or 0.
// (The pid in the lock file is only a hint for people: it may name a
// process long gone, and its pid may be reused.)
func lockHolder(stateDir string) int {
	return procfs.FlockWriter(filepath.Join(stateDir, lockName))
}

// lockSupervisor is the supervisor that holds the lock, or 0 once nobody
// holds it. A holder that /proc/locks does not name may be one that has
// just let go: it looks again, until deadline.
func lockSupervisor(stateDir string, st Status, deadline time.Time) (int, error) {
	for {
		if held, _ := lockHeld(stateDir); !held {
			return 0, nil
		}
		pid := lockHolder(stateDir)
		switch {
		case pid == os.Getpid():
			return 0, fmt.Errorf("lock of %s is held by this process", stateDir)
		case pid > 0:
			return pid, nil
		case pid <= 0 && procfs.Alive(st.SupervisorPID, st.SupervisorStart):
			// /proc/locks does not say (another mount namespace, say):
			// the supervisor of the status file, while it lives.
			return st.SupervisorPID, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("lock of %s is held but its supervisor is unknown (holder pid %d)", stateDir, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StopAndLock stops the account's server (see Stop) and takes its
// supervisor's lock, so that no supervisor can start until unlock is
// called: `oca account remove` holds it while it removes the account, and a
// supervisor that takes the lock after finds the account gone (see
// Config.Registered). A supervisor started between the stop and the lock is
// stopped in turn, until timeout.
func StopAndLock(stateDir string, timeout time.Duration) (unlock func(), err error) {
	deadline := time.Now().Add(timeout)
	for {
		if err := Stop(stateDir, max(time.Until(deadline), time.Second)); err != nil {
			return nil, err
		}
		f, err := acquireLock(stateDir, lockWait)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, ErrAlreadyRunning) || time.Now().After(deadline) {
			return nil, fmt.Errorf("lock the server of %s: %w", stateDir, err)
		}
	}
}

// SupervisorOf finds the supervisor of oca's whose OpenCode pid is (or is
// a process of): the supervisor leads nothing of the group, it is the
// parent of its leader, and it holds the lock of the state dir whose
// tmp/ the OpenCode was given as TMPDIR. It returns that supervisor's pid
// and state dir, or 0 and "". Killing such an OpenCode is useless: the
// supervisor starts another; it is the supervisor that is to be stopped.
func SupervisorOf(pid int) (supervisor int, stateDir string) {
	st, err := procfs.ReadStat(pid)
	if err != nil {
		return 0, ""
	}
	leader, err := procfs.ReadStat(st.PGID)
	if err != nil {
		return 0, ""
	}
	for _, kv := range procfs.Environ(st.PGID) {
		if tmp, ok := strings.CutPrefix(kv, "TMPDIR="); ok && filepath.Base(tmp) == "tmp" {
			stateDir = filepath.Dir(tmp)
		}
	}
	if stateDir == "" || lockHolder(stateDir) != leader.PPID || leader.PPID <= 1 {
		return 0, ""
	}
	return leader.PPID, stateDir
}
