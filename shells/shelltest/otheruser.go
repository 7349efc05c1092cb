package shelltest

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// OtherUser is a throwaway local user, for tests that play another user of
// the machine (a squatter on an account's port, a client holding
// connections open).
type OtherUser struct {
	Name     string
	UID, GID int
}

// NewOtherUser adds a user with a unique name (useradd, no home) and
// removes it, and every process left running as it, when the test ends.
// It needs root: without it, or without useradd, the test is skipped, or
// fails in CI (CI=true).
func NewOtherUser(t testing.TB) *OtherUser {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s, and CI must run every test", why)
		}
		t.Skip(why)
	}
	if os.Geteuid() != 0 {
		skip("playing another user needs root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		skip("useradd is not installed")
	}
	name := "oca" + strconv.Itoa(100000+rand.IntN(900000))
	var out []byte
	var err error
	// Other tests may hold the passwd lock for a moment.
	for try := 0; try < 50; try++ {
		out, err = exec.Command("useradd", "-M", "-s", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "lock") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	ou := &OtherUser{Name: name}
	ou.UID, _ = strconv.Atoi(u.Uid)
	ou.GID, _ = strconv.Atoi(u.Gid)
	t.Cleanup(func() {
		ou.killAll()
		for try := 0; try < 50; try++ {
			out, err = exec.Command("userdel", name).CombinedOutput()
			if err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
			ou.killAll()
		}
		t.Errorf("userdel %s: %v\n%s", name, err, out)
	})
	return ou
}

// Command is a command that runs as the user (its uid, gid, and no other
// group), as runuser -u NAME would run it.
func (u *OtherUser) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}}
	cmd.Dir = "/"
	return cmd
}

// Dir is a new directory the user owns, removed when the test ends.
func (u *OtherUser) Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oca-other-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// killAll kills, one by one by pid, the processes that run as the user:
// the test started them all.
func (u *OtherUser) killAll() {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", e.Name()), &st) == nil && int(st.Uid) == u.UID {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Squatter builds hook/server/testdata/squatter where any user may run it
// (see its documentation): a stand-in for another user's server on an
// account's port that records whether it was ever sent the password.
func Squatter(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oca-squatter-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "squatter")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/oca-sh/oca/hook/server/testdata/squatter")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the squatter: %v\n%s", err, out)
	}
	return bin
}
