package e2e

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// world is shelltest.World: a user's home with two accounts and some
// projects.
type world = shelltest.World

// TestMain runs the tests in a world of their own (testsys.Main), and
// removes the binaries they built.
func TestMain(m *testing.M) {
	os.Exit(shelltest.Main(m))
}
