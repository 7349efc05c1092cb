package testsys

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The cgroups of a test world: its own cgroup in the unified (cgroup2)
// hierarchy, the test process in its leaf "test", and below it whatever
// the tests make (StartUserManager's delegated cgroup).

const (
	worldPrefix = "oca-test." // a world's cgroup: oca-test.PID.RANDOM
	testLeaf    = "test"      // the test process's cgroup, in its world's
	// systemdV1 is the named systemd hierarchy of a machine whose cgroups
	// are both v1 and v2 (hybrid): StartUserManager gives the user manager
	// a cgroup there too, which the reaper removes.
	systemdV1 = "/sys/fs/cgroup/systemd"
)

// unifiedRoot is where the cgroup2 hierarchy is mounted: in
// /sys/fs/cgroup/unified on a hybrid machine, /sys/fs/cgroup on a unified
// one; "" where there is none.
func unifiedRoot() string {
	for _, dir := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if isCgroup2(dir) {
			return dir
		}
	}
	return ""
}

// isCgroup2 tells whether dir is the root of a cgroup2 hierarchy.
func isCgroup2(dir string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(dir, &st) == nil && st.Type == 0x63677270 // CGROUP2_SUPER_MAGIC
}

// cgroupOf is pid's cgroup in the unified hierarchy, relative to its root
// ("" for the root itself), from /proc/PID/cgroup's "0::" line.
func cgroupOf(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return strings.Trim(rest, "/"), nil
		}
	}
	return "", fmt.Errorf("/proc/%d/cgroup has no cgroup2 line", pid)
}

// worldOf is the world (its cgroup, relative to the unified root) that
// pid's tests run in, or "" when pid is in none.
func worldOf(pid int) string {
	cg, err := cgroupOf(pid)
	if err != nil || filepath.Base(cg) != testLeaf || !strings.HasPrefix(filepath.Base(filepath.Dir(cg)), worldPrefix) {
		return ""
	}
	return filepath.Dir(cg)
}

// cgroupPids lists the processes in the cgroup dir and those below it.
func cgroupPids(dir string) []int {
	var pids []int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// killCgroup kills every process in the cgroup dir and below it: with
// cgroup.kill (Linux 5.14), or else frozen and killed one by one until
// none is left. It returns once they are gone (for 30 s at most).
func killCgroup(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		// Frozen, none can fork while the others are killed.
		os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0)
		for range 100 {
			pids := cgroupPids(dir)
			if len(pids) == 0 {
				break
			}
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(10 * time.Millisecond)
		}
		os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
	}
	// A process killed is gone from cgroup.procs once it has exited.
	if !Poll(30*time.Second, func() bool { return !populated(dir) }) {
		return fmt.Errorf("cgroup %s still holds processes %v after SIGKILL", dir, cgroupPids(dir))
	}
	return nil
}

// populated tells whether the cgroup dir or one below it holds a process.
func populated(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return len(cgroupPids(dir)) > 0
	}
	return bytes.Contains(b, []byte("populated 1"))
}

// removeCgroup removes the cgroup dir and those below it, deepest first,
// once the processes in them are gone (for 30 s at most).
func removeCgroup(dir string) error {
	var err error
	Poll(30*time.Second, func() bool {
		var dirs []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, werr error) error {
			if werr == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			err = os.Remove(dirs[i])
		}
		_, serr := os.Stat(dir)
		return os.IsNotExist(serr)
	})
	if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
		return fmt.Errorf("cgroup %s is left (processes %v): %w", dir, cgroupPids(dir), err)
	}
	return nil
}
