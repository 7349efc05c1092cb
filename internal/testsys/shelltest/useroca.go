package shelltest

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// UserOca runs oca as a throwaway user who is not root (U), in a home of
// that user's, with oca first on PATH and ports of the test's own.
type UserOca struct {
	T   *testing.T
	U   *testsys.User
	Bin string   // oca, copied into the user's home
	Env []string // the environment oca runs with
}

// NewUserOca copies oca into u's home and returns its runner; env is added
// to the environment.
func NewUserOca(t *testing.T, u *testsys.User, env ...string) *UserOca {
	bin := filepath.Join(u.Home, "oca")
	testsys.CopyExecutable(t, Oca(t), bin)
	return &UserOca{T: t, U: u, Bin: bin, Env: append([]string{
		"HOME=" + u.Home, "PATH=" + u.Home + ":/usr/local/bin:/usr/bin:/bin",
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}, env...)}
}

// Run runs oca ARGS in dir and returns what it wrote.
func (o *UserOca) Run(dir string, args ...string) (stdout, stderr string, err error) {
	cmd := o.U.Command(o.Bin, args...)
	cmd.Env = append(append([]string{}, o.Env...), "PWD="+dir)
	cmd.Dir = dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// Must runs oca ARGS in dir, fails the test if it fails, and returns its
// output.
func (o *UserOca) Must(dir string, args ...string) string {
	o.T.Helper()
	out, errOut, err := o.Run(dir, args...)
	if err != nil {
		o.T.Fatalf("oca %s as %s: %v\n%s%s", strings.Join(args, " "), o.U.Name, err, out, errOut)
	}
	return out + errOut
}

// As runs a command as the user and fails the test if it fails.
func (o *UserOca) As(args ...string) {
	o.T.Helper()
	if out, err := o.U.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		o.T.Fatalf("%s as %s: %v\n%s", strings.Join(args, " "), o.U.Name, err, out)
	}
}
