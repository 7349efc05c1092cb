package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procStat holds the fields of /proc/PID/stat that oca needs.
type procStat struct {
	state byte   // field 3: R, S, D, Z, ...
	pgid  int    // field 5
	start uint64 // field 22: start time in clock ticks since boot
}

// readProcStat parses /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat pgid: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat start time: %w", pid, err)
	}
	return procStat{state: f[0][0], pgid: pgid, start: start}, nil
}

// procStart returns the start time of pid (field 22 of /proc/PID/stat), or
// 0 when it cannot be read.
func procStart(pid int) uint64 {
	st, err := readProcStat(pid)
	if err != nil {
		return 0
	}
	return st.start
}

// procAge is how long pid has run (0 when it cannot be read): its start
// time in clock ticks since boot (USER_HZ, 100 on Linux) against
// /proc/uptime.
func procAge(pid int) time.Duration {
	start := procStart(pid)
	b, err := os.ReadFile("/proc/uptime")
	if start == 0 || err != nil {
		return 0
	}
	up, err := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	if err != nil {
		return 0
	}
	// Both count in hundredths of a second; a process started within the
	// current one may come out a nanosecond short of zero.
	return max(0, time.Duration(up*float64(time.Second))-time.Duration(start)*(time.Second/100))
}

// alive reports whether pid is a live process whose start time is start
// (start 0 matches any start time). A zombie counts as dead, unless it is a
// main thread whose other threads are still exiting: until the last one
// has, the process keeps its files (a lock, a listening socket).
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := readProcStat(pid)
	if err != nil || (zombie(st) && !exitingThreads(pid)) {
		return false
	}
	return start == 0 || st.start == start
}

func zombie(st procStat) bool { return st.state == 'Z' || st.state == 'X' }

// exitingThreads reports whether pid, a zombie, still has other threads.
func exitingThreads(pid int) bool {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return err == nil && len(tasks) > 1
}

// groupMembers lists the live processes of process group pgid (zombies
// count only while their other threads exit, as in alive).
func groupMembers(pgid int) []int {
	var pids []int
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err == nil && st.pgid == pgid && (!zombie(st) || exitingThreads(pid)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// signalGroup sends sig to process group pgid; a group already gone is not
// an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return fmt.Errorf("signal process group %d: bad pgid", pgid)
	}
	if err := unix.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d with %v: %w", pgid, sig, err)
	}
	return nil
}

// procCmdline returns the command line of pid with spaces between the
// arguments, or "" when it cannot be read.
func procCmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// ProcessRSS returns the resident set size of pid in bytes, read from
// VmRSS in /proc/PID/status. `oca status` uses it for the memory column.
func ProcessRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read rss of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse rss of %d: %w", pid, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("read rss of %d: no VmRSS line", pid)
}

// procEnvHas reports whether the environment of pid holds every one of
// vars ("K=V").
func procEnvHas(pid int, vars ...string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	env := append([]byte{0}, b...)
	for _, kv := range vars {
		if !bytes.Contains(env, append(append([]byte{0}, kv...), 0)) {
			return false
		}
	}
	return true
}
