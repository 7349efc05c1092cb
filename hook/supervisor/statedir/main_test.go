package statedir

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// TestMain runs the tests in a world of their own (testsys.Main): the
// shells they play (sleep) end with the test process.
func TestMain(m *testing.M) { os.Exit(testsys.Main(m)) }
