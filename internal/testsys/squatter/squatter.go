// Package squatter is a test fixture, for tests only: another local
// user's server on an account's port. It runs testdata/squatter
// (see its documentation) as a throwaway user; the squatter answers every
// request as a healthy OpenCode would and records whether it was ever sent
// the password. It also plays another user's client (Get).
package squatter

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
)

// Build builds the squatter where any user may run it, and returns its
// path.
func Build(t testing.TB) string {
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
	if err := testsys.GoBuild([]string{"CGO_ENABLED=0"}, "github.com/oca-sh/oca/internal/testsys/squatter/testdata/squatter", bin, "-ldflags=-s -w"); err != nil {
		t.Fatalf("building the squatter: %v", err)
	}
	return bin
}

// Squatter is a running squatter.
type Squatter struct {
	cmd    *exec.Cmd
	record string
}

// Start runs `bin serve PORT RECORD` as u, waits until it listens, and
// kills it when the test ends.
func Start(t testing.TB, bin string, u *testsys.User, port int) *Squatter {
	t.Helper()
	s := &Squatter{record: filepath.Join(u.Dir(t), "record")}
	s.cmd = u.Command(bin, "serve", strconv.Itoa(port), s.record)
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "listening\n" {
		t.Fatalf("squatter: %q, %v", line, err)
	}
	return s
}

// Await runs `bin await PORT RECORD` as u: a squatter that tries to bind
// the port until it can (while the account's server holds it), and kills it
// when the test ends. It returns at once; Bound says when it has the port.
func Await(t testing.TB, bin string, u *testsys.User, port int) *Squatter {
	t.Helper()
	s := &Squatter{record: filepath.Join(u.Dir(t), "record")}
	s.cmd = u.Command(bin, "await", strconv.Itoa(port), s.record)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	return s
}

// Bound tells whether the squatter has bound its port.
func (s *Squatter) Bound() bool { return slices.Contains(s.Lines(), "listening") }

// Conns is how many connections the squatter has accepted.
func (s *Squatter) Conns() int {
	n := 0
	for _, l := range s.Lines() {
		if l == "conn" {
			n++
		}
	}
	return n
}

// Get runs `bin get URL` as u, another user's client, and returns what it
// printed: "status N", or "error ..." when it had no answer.
func Get(t testing.TB, bin string, u *testsys.User, url string) string {
	t.Helper()
	out, err := u.Command(bin, "get", url).Output()
	if err != nil {
		t.Fatalf("squatter get %s: %v", url, err)
	}
	return strings.TrimSpace(string(out))
}

// Pid is the squatter's process id.
func (s *Squatter) Pid() int { return s.cmd.Process.Pid }

// Lines is what the squatter recorded, one entry a line, spaces made "_".
func (s *Squatter) Lines() []string {
	b, _ := os.ReadFile(s.record)
	return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
}

// Check fails the test when the squatter was ever sent the password, or,
// with contacted, when nobody connected to it (the test would prove
// nothing).
func (s *Squatter) Check(t testing.TB, contacted bool) {
	t.Helper()
	lines := s.Lines()
	if contacted {
		// The squatter accepts (and notes) a connection the client has
		// already closed when it was refused: on a loaded machine, later.
		testsys.Poll(testsys.Loaded(10*time.Second), func() bool { lines = s.Lines(); return slices.Contains(lines, "conn") })
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "auth") {
			t.Errorf("the squatter was sent the password: %v", lines)
		}
	}
	if contacted && !slices.Contains(lines, "conn") {
		t.Errorf("nobody connected to the squatter (%v): the test proves nothing", lines)
	}
}
