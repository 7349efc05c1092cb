package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
)

// ErrAlreadyRunning is returned by Serve when another supervisor holds the
// account's lock.
var ErrAlreadyRunning = statedir.ErrLocked

// lockSupervisor is the supervisor that holds the lock, or 0 once nobody
// holds it. A holder that /proc/locks does not name may be one that has
// just let go: it looks again, until deadline.
func lockSupervisor(stateDir string, st Status, deadline time.Time) (int, error) {
	for {
		if held, _ := statedir.LockHeld(stateDir); !held {
			return 0, nil
		}
		pid := statedir.LockHolder(stateDir)
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
		f, err := statedir.AcquireLock(stateDir, lockWait)
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
	if stateDir == "" || statedir.LockHolder(stateDir) != leader.PPID || leader.PPID <= 1 {
		return 0, ""
	}
	return leader.PPID, stateDir
}
