package procfs

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Pids lists the processes in /proc.
func Pids() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	pids := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Stat holds the fields of /proc/PID/stat that oca needs.
type Stat struct {
	State byte   // field 3: R, S, D, Z, ...
	PPID  int    // field 4
	PGID  int    // field 5
	Start uint64 // field 22: start time in clock ticks since boot
}

// Zombie tells whether the process has exited and waits to be reaped.
func (s Stat) Zombie() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat parses /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 20 || f[0] == "" {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgid, err2 := strconv.Atoi(f[2])
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: bad ppid, pgid or start time", pid)
	}
	return Stat{State: f[0][0], PPID: ppid, PGID: pgid, Start: start}, nil
}

// StartTime is the start time of pid (field 22 of /proc/PID/stat), or 0
// when it cannot be read. With the pid, it names a process for good: a pid
// reused later has another start time.
func StartTime(pid int) uint64 {
	st, err := ReadStat(pid)
	if err != nil {
		return 0
	}
	return st.Start
}

// Age is how long pid has run (0 when it cannot be read): its start time
// in clock ticks since boot (USER_HZ, 100 on Linux) against /proc/uptime.
func Age(pid int) time.Duration {
	start := StartTime(pid)
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

// Alive reports whether pid is a live process whose start time is start
// (start 0 matches any start time). A zombie counts as dead, unless it is a
// main thread whose other threads are still exiting: until the last one
// has, the process keeps its files (a lock, a listening socket).
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := ReadStat(pid)
	if err != nil || (st.Zombie() && !exitingThreads(pid)) {
		return false
	}
	return start == 0 || st.Start == start
}

// exitingThreads reports whether pid, a zombie, still has other threads.
func exitingThreads(pid int) bool {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return err == nil && len(tasks) > 1
}

// GroupMembers lists the live processes of process group pgid (zombies
// count only while their other threads exit, as in Alive).
func GroupMembers(pgid int) []int {
	var pids []int
	for _, pid := range Pids() {
		st, err := ReadStat(pid)
		if err == nil && st.PGID == pgid && (!st.Zombie() || exitingThreads(pid)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Children lists the processes whose parent is pid.
func Children(pid int) []int {
	var kids []int
	for _, p := range Pids() {
		if st, err := ReadStat(p); err == nil && st.PPID == pid {
			kids = append(kids, p)
		}
	}
	return kids
}

// Cmdline is the command line of pid, one string an argument (nil when it
// cannot be read, or for a kernel thread).
func Cmdline(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// CmdlineString is the command line of pid with spaces between the
// arguments, as ps shows it, or "".
func CmdlineString(pid int) string {
	return strings.TrimSpace(strings.Join(Cmdline(pid), " "))
}

// Environ is the environment pid started with ("K=V" each), or nil when it
// cannot be read.
func Environ(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// EnvHas reports whether the environment of pid holds every one of vars
// ("K=V").
func EnvHas(pid int, vars ...string) bool {
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

// Cwd is pid's working directory.
func Cwd(pid int) (string, error) {
	return os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
}

// RSS is the resident set size of pid in bytes (VmRSS in
// /proc/PID/status).
func RSS(pid int) (int64, error) {
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
