package tui

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestMain runs the tests in a world of their own (testsys.Main), and
// removes the binaries they built. Twice go test's -parallel (GOMAXPROCS):
// TestShimTUIThroughProxy and TestShimRealOpencode's three lanes, side by
// side, each mostly waiting on the real OpenCode.
func TestMain(m *testing.M) {
	testsys.MoreParallel(2)
	os.Exit(shelltest.Main(m))
}

// realWorld is shelltest.RealWorld: a world with the real OpenCode and the
// fake provider; proc is one of its processes.
type (
	realWorld = shelltest.RealWorld
	proc      = shelltest.Proc
)
