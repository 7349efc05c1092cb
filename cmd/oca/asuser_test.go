package main

import (
	"path/filepath"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// newUserOca runs this oca as a throwaway user (shelltest.UserOca), with
// the fake OpenCode (doctor runs it) beside oca, first on PATH.
func newUserOca(t *testing.T, u *testsys.User, env ...string) *shelltest.UserOca {
	o := shelltest.NewUserOca(t, u, env...)
	testsys.CopyExecutable(t, shelltest.FakeOpencode(t), filepath.Join(u.Home, "opencode"))
	return o
}
