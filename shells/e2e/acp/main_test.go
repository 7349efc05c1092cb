package acp

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestMain runs the tests in a world of their own (testsys.Main), and
// removes the binaries they built.
func TestMain(m *testing.M) {
	os.Exit(shelltest.Main(m))
}
