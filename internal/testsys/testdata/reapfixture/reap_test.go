// Package reapfixture is the test binary that internal/testsys's
// TestReaper runs, kills and looks after: its tests start processes the
// way oca's tests do, and leave them.
package reapfixture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
)

func TestMain(m *testing.M) {
	code := testsys.Main(m)
	if dir := os.Getenv("FIXTURE_AFTER"); dir != "" {
		// What a TestMain may do once Main has returned (cmd/oca's removes
		// its builds), with a collection in between: the reaper must not
		// take it for the test process's end.
		runtime.GC()
		runtime.GC()
		time.Sleep(time.Second)
		os.WriteFile(filepath.Join(dir, "after"), nil, 0o644)
	}
	os.Exit(code)
}

// TestTree starts, into $FIXTURE_DIR, a process tree as a supervisor's
// (each process writes its pid to a file named after it), prints "ready"
// and waits to be killed:
//
//	detached, detached.child  setsid and a fork: the session leader is init's child
//	parent, parent.child      a child and its grandchild
//	user                      a process of another user ($FIXTURE_UID, $FIXTURE_GID)
//	bare                      detached, with an environment of its own (no testsys.WorldEnv)
//
// and, beside them, a temporary directory (its path in the file tmpdir), a
// tmpfs mounted (tmpfs), and a command for the reaper (testsys.OnKill)
// that makes the file onkill.
func TestTree(t *testing.T) {
	dir := os.Getenv("FIXTURE_DIR")
	if dir == "" {
		t.Skip("run by internal/testsys's TestReaper")
	}
	os.WriteFile(filepath.Join(dir, "tmpdir"), []byte(t.TempDir()), 0o644)
	os.WriteFile(filepath.Join(dir, "tmpfs"), []byte(testsys.Tmpfs(t, "64k")), 0o644)
	testsys.OnKill(t, "touch", filepath.Join(dir, "onkill"))
	start := func(cmd *exec.Cmd) {
		t.Helper()
		if cmd.Dir == "" {
			cmd.Dir = dir
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go cmd.Wait()
	}
	start(exec.Command("sh", "-c", `setsid -f sh -c 'echo $$ > detached; sleep 3600 & echo $! > detached.child; wait'`))
	parent := exec.Command("sh", "-c", `sleep 3600 & echo $! > parent.child; wait`)
	start(parent)
	write(t, filepath.Join(dir, "parent"), parent.Process.Pid)
	uid, _ := strconv.Atoi(os.Getenv("FIXTURE_UID"))
	gid, _ := strconv.Atoi(os.Getenv("FIXTURE_GID"))
	user := exec.Command("sleep", "3600")
	user.Dir = "/"
	user.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	start(user)
	write(t, filepath.Join(dir, "user"), user.Process.Pid)
	bare := exec.Command("sh", "-c", `setsid -f sh -c 'echo $$ > bare; exec sleep 3600'`)
	bare.Env = []string{"PATH=/usr/bin:/bin"}
	start(bare)
	for _, name := range []string{"detached", "detached.child", "parent.child", "bare"} {
		testsys.Eventually(t, 30*time.Second, name+"'s pid", func() bool {
			b, err := os.ReadFile(filepath.Join(dir, name))
			return err == nil && len(b) > 0 && b[len(b)-1] == '\n'
		})
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

// TestLeave passes, and leaves a detached process behind.
func TestLeave(t *testing.T) {
	dir := os.Getenv("FIXTURE_DIR")
	if dir == "" {
		t.Skip("run by internal/testsys's TestReaper")
	}
	cmd := exec.Command("sh", "-c", `setsid -f sh -c 'echo $$ > left; exec sleep 3600'`)
	cmd.Dir = dir
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, 30*time.Second, "the pid of the process left", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "left"))
		return err == nil && len(b) > 0 && b[len(b)-1] == '\n'
	})
}

func write(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
