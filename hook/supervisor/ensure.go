package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/procfs"
)

const (
	logName = "serve.log"
	// maxLog is the size past which Ensure moves serve.log to serve.log.1
	// before starting a supervisor.
	maxLog = 1 << 20
)

// Ensure makes sure the account's supervisor runs, without ever waiting for
// OpenCode. When the lock is held it costs one lock probe (open, flock,
// close) and returns false. When it is free it starts ocaBin with args
// (normally "serve", ACCOUNT) fully detached: its own session, stdin
// /dev/null, stdout and stderr appended to StateDir/serve.log (0600; moved
// to serve.log.1 first when over 1 MiB), the
// caller's environment (the supervisor builds OpenCode's own), working
// directory "/" so no project directory stays pinned. It returns true
// without waiting. Concurrent calls may each start a supervisor: all but one
// find the lock taken and exit at once, so one server runs.
//
// The started process is reaped by a background goroutine if the caller
// lives on; a short-lived caller (the hook) just exits and leaves it to init.
func Ensure(cfg Config, ocaBin string, args ...string) (started bool, err error) {
	if cfg.StateDir == "" {
		return false, errors.New("ensure server: no state dir")
	}
	held, err := statedir.LockHeld(cfg.StateDir)
	if err != nil {
		return false, fmt.Errorf("ensure server of %s: %w", cfg.Account, err)
	}
	if held {
		return false, nil
	}
	logPath := filepath.Join(cfg.StateDir, logName)
	if fi, err := os.Stat(logPath); err == nil && fi.Size() > maxLog {
		_ = os.Rename(logPath, logPath+".1")
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return false, fmt.Errorf("ensure server of %s: %w", cfg.Account, err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return false, fmt.Errorf("ensure server of %s: %w", cfg.Account, err)
	}
	defer devnull.Close()
	cmd := exec.Command(ocaBin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("ensure server of %s: start supervisor: %w", cfg.Account, err)
	}
	// Until it holds the lock, nothing but this says a supervisor is
	// coming: a stop at once would find nothing to stop (see Stop).
	markStarting(cfg.StateDir, cmd.Process.Pid)
	go func() { _ = cmd.Wait() }()
	return true, nil
}

// Running tells whether the account's supervisor runs (holds its lock).
func Running(stateDir string) (bool, error) {
	held, err := statedir.LockHeld(stateDir)
	if err != nil {
		return false, fmt.Errorf("is the server running: %w", err)
	}
	return held, nil
}

// startingName is the file in which Ensure names the process it started
// ("PID START"), for Stop to wait for while that process lives and the
// lock is not yet held.
const startingName = "starting"

func markStarting(stateDir string, pid int) {
	line := fmt.Sprintf("%d %d\n", pid, procfs.StartTime(pid))
	// Not written: a stop at once may then miss it, as before; nothing else.
	_ = atomicfile.Write(filepath.Join(stateDir, startingName), []byte(line), 0o600)
}

// waitStarting waits, until deadline, while the process Ensure last
// started lives and the lock is not held: a supervisor between its start
// and its lock. It returns once the lock is held or that process is gone.
func waitStarting(stateDir string, deadline time.Time) {
	waitUntil(func() bool { pid, _ := startingSupervisor(stateDir); return pid == 0 }, time.Until(deadline))
}

// startingSupervisor is the process Ensure last started, while it lives
// and the lock is not held (a supervisor between its start and its lock),
// with its start time; else 0.
func startingSupervisor(stateDir string) (pid int, start uint64) {
	b, err := os.ReadFile(filepath.Join(stateDir, startingName))
	if err != nil {
		return 0, 0
	}
	if _, err := fmt.Sscanf(string(b), "%d %d", &pid, &start); err != nil || pid <= 0 || !procfs.Alive(pid, start) {
		return 0, 0
	}
	if held, _ := statedir.LockHeld(stateDir); held {
		return 0, 0
	}
	return pid, start
}

// Stop stops the account's server: SIGTERM to the supervisor (the pid in
// status.json, or the lock file's), which stops OpenCode's process group
// with escalation; then it waits until the lock is released and the port is
// free. A supervisor still holding the lock after timeout is killed, and an
// OpenCode left behind by a killed supervisor is stopped by its process
// group. Stopping a stopped account is not an error, nor is a port that
// another user holds (it is not waited for).
func Stop(stateDir string, timeout time.Duration) error {
	st, err := readStatusFile(stateDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop server: %w", err)
	}
	deadline := time.Now().Add(timeout)
	held := func() bool { h, _ := statedir.LockHeld(stateDir); return h }
	// A supervisor started a moment ago (`oca server start` just
	// returned) may not hold its lock yet: it is waited for, and stopped,
	// rather than found absent and left to run on.
	waitStarting(stateDir, time.Now().Add(min(timeout, 30*time.Second)))
	// A probe holds the lock for a moment: 5 s is ample, even under load.
	pid, err := lockSupervisor(stateDir, st, time.Now().Add(min(time.Until(deadline), 5*time.Second)))
	if err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	signalled := map[int]bool{}
	for pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop server: signal supervisor %d: %w", pid, err)
		}
		// The lock free, or taken by another supervisor as this one let
		// go of it (one started beside it a moment before, that was still
		// trying the lock): that one is stopped in turn.
		next := 0
		released := func() bool {
			if !held() {
				return true
			}
			if h := statedir.LockHolder(stateDir); h > 0 && h != pid {
				next = h
				return true
			}
			return false
		}
		if !waitUntil(released, time.Until(deadline)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			if !waitUntil(released, 2*time.Second) {
				return fmt.Errorf("stop server: supervisor %d still holds the lock after SIGKILL", pid)
			}
		}
		// Re-read: the supervisor may have restarted OpenCode since.
		if cur, err := readStatusFile(stateDir); err == nil {
			st = cur
		}
		signalled[pid] = true
		pid = next
		if pid == 0 {
			// One that Ensure started and that has not yet taken the
			// lock, as it frees (it tried it while the stopped one held
			// it): stopped before it can take it; or, asked in this
			// order, once it has.
			if p, _ := startingSupervisor(stateDir); p > 0 && !signalled[p] {
				pid = p
			} else if h := statedir.LockHolder(stateDir); h > 0 && !signalled[h] {
				pid = h
			}
		}
	}
	// A supervisor that died hard leaves its OpenCode group behind.
	if pgid := st.OpencodePGID; pgid > 0 && len(procfs.GroupMembers(pgid)) > 0 &&
		(procfs.Alive(st.OpencodePID, st.OpencodeStart) || !procfs.Alive(pgid, 0)) {
		stopGroup(pgid, 2*time.Second, func() bool { return len(procfs.GroupMembers(pgid)) == 0 }, func(string, ...any) {})
	}
	if st.Port > 0 {
		// Wait for the port to be free, but not for another user's
		// listener: that is not the account's server, and nothing of oca's
		// could make it go (a squatter must not block `account remove`).
		done := func() bool { return opencode.OwnListenersGone(st.Port) }
		if !waitUntil(done, max(time.Until(deadline), time.Second)) {
			return fmt.Errorf("stop server: %w", opencode.PortInUse(st.Port, nil))
		}
	}
	return nil
}
