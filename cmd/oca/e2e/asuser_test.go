package e2e

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// userOca runs oca as a throwaway user who is not root, in a home of that
// user's, with oca on PATH and ports of the test's own. (cmd/oca's tests
// have the same, in asuser_test.go: these run in a binary of their own.)
type userOca struct {
	t   *testing.T
	u   *testsys.User
	bin string
	env []string
}

func newUserOca(t *testing.T, u *testsys.User, env ...string) *userOca {
	bin := filepath.Join(u.Home, "oca")
	testsys.CopyExecutable(t, shelltest.Oca(t), bin)
	return &userOca{t: t, u: u, bin: bin, env: append([]string{
		"HOME=" + u.Home, "PATH=" + u.Home + ":/usr/local/bin:/usr/bin:/bin",
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}, env...)}
}

// run runs oca ARGS in dir and returns what it wrote.
func (o *userOca) run(dir string, args ...string) (stdout, stderr string, err error) {
	cmd := o.u.Command(o.bin, args...)
	cmd.Env = append(append([]string{}, o.env...), "PWD="+dir)
	cmd.Dir = dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// must runs oca ARGS in dir, fails the test if it fails, and returns its
// output.
func (o *userOca) must(dir string, args ...string) string {
	o.t.Helper()
	out, errOut, err := o.run(dir, args...)
	if err != nil {
		o.t.Fatalf("oca %s as %s: %v\n%s%s", strings.Join(args, " "), o.u.Name, err, out, errOut)
	}
	return out + errOut
}

// as runs a command as the user and fails the test if it fails.
func (o *userOca) as(args ...string) {
	o.t.Helper()
	if out, err := o.u.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		o.t.Fatalf("%s as %s: %v\n%s", strings.Join(args, " "), o.u.Name, err, out)
	}
}
