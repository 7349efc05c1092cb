package testsys

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// UserManager is a systemd user manager (`systemd --user`) of a test's
// user, as a login session would start it.
type UserManager struct {
	RuntimeDir string // the user's XDG_RUNTIME_DIR, where systemctl --user finds it
	cmd        *exec.Cmd
}

// StartUserManager starts u's systemd user manager and waits until it
// runs; it is stopped when the test ends. It needs root, systemd, and
// unshare. On a machine not booted with systemd (a container, a VM whose
// init is not systemd) it makes what a login session would have: a
// cgroup of the user's own to delegate (in the unified hierarchy, and in
// the named systemd one where the machine has both) and XDG_RUNTIME_DIR;
// and it runs the manager in a mount namespace of its own where
// /run/systemd/system exists, the mark systemd --user checks for, so the
// machine itself is left as it is.
func StartUserManager(t testing.TB, u *User) *UserManager {
	t.Helper()
	NeedSystemd(t)
	m := &UserManager{RuntimeDir: filepath.Join("/run/user", strconv.Itoa(u.UID))}
	if err := os.MkdirAll(m.RuntimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(m.RuntimeDir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	OnKill(t, "rm", "-rf", m.RuntimeDir)
	t.Cleanup(func() { os.RemoveAll(m.RuntimeDir) })

	// The cgroups the manager is started in and may create below.
	var procs []string
	// A tree of the test's own, never the machine's user.slice: inside
	// the test's world (Main), whose reaper kills and removes it should
	// the test process end first.
	top := filepath.Join(worldOf(os.Getpid()), "oca-test-"+u.Name)
	leaf := filepath.Join(top, "user@"+strconv.Itoa(u.UID)+".service")
	root := unifiedRoot()
	if root == "" {
		SkipOrFail(t, "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	}
	roots := []string{root}
	if root != "/sys/fs/cgroup" {
		roots = append(roots, systemdV1)
	}
	for _, root := range roots {
		dir := filepath.Join(root, leaf)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("making the user's cgroup: %v", err)
		}
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, u.UID, u.GID)
		}); err != nil {
			t.Fatalf("delegating the user's cgroup: %v", err)
		}
		procs = append(procs, filepath.Join(dir, "cgroup.procs"))
		t.Cleanup(func() {
			if err := removeCgroup(filepath.Join(root, top)); err != nil {
				t.Error(err)
			}
		})
	}

	script := `set -e
mount -t tmpfs -o mode=0755 oca-test /run/systemd
mkdir /run/systemd/system
for p in "$@"; do echo $$ > "$p"; done
exec runuser -u "$USERNAME" -- env -i HOME="$HOMEDIR" XDG_RUNTIME_DIR="$RUNDIR" PATH=/usr/local/bin:/usr/bin:/bin ` + systemdPath + ` --user`
	// The mount point; made here (and removed after) where the machine
	// has none.
	if _, err := os.Stat("/run/systemd"); os.IsNotExist(err) {
		if err := os.Mkdir("/run/systemd", 0o755); err != nil {
			t.Fatal(err)
		}
		OnKill(t, "rmdir", "/run/systemd")
		t.Cleanup(func() { os.Remove("/run/systemd") })
	}
	m.cmd = exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh"}, procs...)...)
	m.cmd.Env = append(os.Environ(), "USERNAME="+u.Name, "HOMEDIR="+u.Home, "RUNDIR="+m.RuntimeDir)
	var out Buffer
	m.cmd.Stdout, m.cmd.Stderr = &out, &out
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting systemd --user: %v", err)
	}
	exited := make(chan struct{})
	go func() { m.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			m.cmd.Process.Kill()
			<-exited
		}
	})

	var state string
	within := Loaded(90 * time.Second)
	if !Poll(within, func() bool {
		select {
		case <-exited:
			t.Fatalf("systemd --user exited at once:\n%s", out.String())
		default:
		}
		// Not is-system-running: systemctl answers "offline" to that
		// on a machine not booted with systemd, whatever the manager says.
		b, _ := m.Systemctl(u, "show", "--property", "SystemState", "--value").Output()
		state = strings.TrimSpace(string(b))
		return state == "running" || state == "degraded"
	}) {
		t.Fatalf("systemd --user is %q after %s:\n%s", state, within, out.String())
	}
	return m
}

// Systemctl is `systemctl --user ARGS` as u, for this manager.
func (m *UserManager) Systemctl(u *User, args ...string) *exec.Cmd {
	cmd := u.Command("systemctl", append([]string{"--user"}, args...)...)
	cmd.Env = []string{"XDG_RUNTIME_DIR=" + m.RuntimeDir, "PATH=/usr/bin:/bin"}
	return cmd
}
