package procfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oca-sh/oca/internal/testsys"
)

func TestProcesses(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.Env = append(os.Environ(), "OCA_PROCFS_TEST=1")
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	st, err := ReadStat(pid)
	if err != nil || st.PPID != os.Getpid() || st.PGID != unix.Getpgrp() || st.Start == 0 || st.Zombie() {
		t.Errorf("ReadStat = %+v, %v", st, err)
	}
	if !slices.Contains(Children(os.Getpid()), pid) {
		t.Errorf("Children of this process lack %d", pid)
	}
	if !slices.Contains(GroupMembers(unix.Getpgrp()), pid) {
		t.Errorf("GroupMembers of this group lack %d", pid)
	}
	if got := Cmdline(pid); !slices.Equal(got, []string{"sleep", "30"}) || CmdlineString(pid) != "sleep 30" {
		t.Errorf("Cmdline = %q, %q", got, CmdlineString(pid))
	}
	if !EnvHas(pid, "OCA_PROCFS_TEST=1") || EnvHas(pid, "OCA_PROCFS_TEST=2") || !slices.Contains(Environ(pid), "OCA_PROCFS_TEST=1") {
		t.Errorf("the environment of %d is not read right", pid)
	}
	if wd, err := Cwd(pid); err != nil || wd != cmd.Dir {
		t.Errorf("Cwd = %q, %v; want %q", wd, err, cmd.Dir)
	}
	if rss, err := RSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if age := Age(pid); age < 0 || age > 2*time.Minute {
		t.Errorf("a process just started is %s old", age)
	}
	if Age(1) < Age(pid) {
		t.Errorf("init (%s) is younger than a process just started (%s)", Age(1), Age(pid))
	}
	if !Alive(pid, st.Start) || Alive(pid, st.Start+1) || !Alive(pid, 0) {
		t.Errorf("Alive does not tell %d by its start time", pid)
	}
	cmd.Process.Kill()
	// Killed but not yet reaped: a zombie is not alive.
	testsys.Eventually(t, 10*time.Second, fmt.Sprintf("%d dead after SIGKILL", pid), func() bool { return !Alive(pid, 0) })
	cmd.Wait()
	if Alive(pid, 0) || StartTime(pid) != 0 || Cmdline(pid) != nil {
		t.Errorf("a reaped process reads as alive")
	}
}

func TestFlockWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if pid := FlockWriter(path); pid != 0 {
		t.Errorf("a free lock is held by %d", pid)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	if pid := FlockWriter(path); pid != 0 {
		t.Errorf("a shared lock is named as a writer's: %d", pid)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if pid := FlockWriter(path); pid != os.Getpid() {
		t.Errorf("FlockWriter = %d, want %d", pid, os.Getpid())
	}
}
