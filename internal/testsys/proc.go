package testsys

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// What the reaper and the end of Main read of /proc. (Not internal/procfs:
// its own tests may use this package.)

// proc is a process as /proc/PID/stat shows it.
type proc struct {
	pid, ppid, pgid int
	start           uint64 // field 22: with the pid, names the process for good
	zombie          bool
}

// readProc reads /proc/PID/stat; ok is false when pid is gone.
func readProc(pid int) (p proc, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	// The command (field 2) may hold spaces and parentheses: count the
	// fields after its last ')'; f[0] is field 3.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return proc{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return proc{}, false
	}
	p.pid = pid
	p.ppid, _ = strconv.Atoi(f[1])
	p.pgid, _ = strconv.Atoi(f[2])
	p.start, _ = strconv.ParseUint(f[19], 10, 64)
	p.zombie = f[0] == "Z" || f[0] == "X"
	return p, true
}

// allProcs lists the live processes (zombies left out).
func allProcs() []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok && !p.zombie {
			out = append(out, p)
		}
	}
	return out
}

// descendants lists the live processes below pid (its children, theirs,
// ...), as the processes ps lists now.
func descendants(ps []proc, pid int) []proc {
	kids := map[int][]proc{}
	for _, p := range ps {
		kids[p.ppid] = append(kids[p.ppid], p)
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		for _, k := range kids[queue[0]] {
			out = append(out, k)
			queue = append(queue, k.pid)
		}
		queue = queue[1:]
	}
	return out
}

// hasEnv tells whether pid's environment holds kv ("NAME=value").
func hasEnv(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	return err == nil && bytes.Contains(append([]byte{0}, b...), []byte("\x00"+kv+"\x00"))
}

// describe is one line about pid for a report: its pid, user and command
// line.
func describe(pid int) string {
	line := strconv.Itoa(pid)
	uid := ""
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "Uid:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					uid = f[0]
				}
			}
		}
	}
	if uid != "" {
		line += " uid " + uid
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return line + ": " + strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
