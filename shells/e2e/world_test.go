package e2e

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// world is shelltest.World: a user's home with two accounts and some
// projects.
type world = shelltest.World

// TestMain runs the tests in a world of their own (testsys.Main), and
// removes the binaries they built.
func TestMain(m *testing.M) {
	code := testsys.Main(m)
	shelltest.RemoveBuilds()
	os.Exit(code)
}

// What follows is shells' test world, as shells' own tests have it
// (hook_test.go, server_test.go, shim_test.go): these tests run in a test
// binary of their own, so that the shells' tests stay quick.
