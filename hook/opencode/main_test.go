package opencode

import (
	"os"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// TestMain runs the tests in a world of their own (testsys.Main): what
// they start ends with them.
func TestMain(m *testing.M) { os.Exit(testsys.Main(m)) }
