package editors

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestMain runs the tests in a world of their own (testsys.Main), and
// removes the binaries they built. Twice go test's -parallel (GOMAXPROCS),
// so that TestShimsWithoutHook's lanes run side by side where that is
// 2.
func TestMain(m *testing.M) {
	testsys.MoreParallel(2)
	os.Exit(shelltest.Main(m))
}
