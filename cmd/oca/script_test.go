package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

func TestMain(m *testing.M) {
	if isShim(os.Args[0]) {
		main() // the test binary as oca's own `opencode`: the shim's link points here
	}
	// Twice go test's -parallel (where not given): most tests wait on
	// oca's processes (install.sh's builds, servers, terminals).
	testsys.MoreParallel(2)
	os.Exit(cleanup{m}.Run())
}

// cleanup removes what the benchmarks built once the tests have run.
type cleanup struct{ m *testing.M }

func (c cleanup) Run() int {
	code := testsys.Main(c.m)
	shelltest.RemoveBuilds()
	return code
}

// TestScripts runs the testscript files in testdata/script: each is a
// user's session with the real binary, in a home of its own.
func TestScripts(t *testing.T) {
	t.Parallel()
	// The oca the scripts run is the one install.sh builds, as the
	// shells' tests run it: not this test binary, whose every start costs
	// a third more (its size, and the inits of what tests link).
	oca := shelltest.Oca(t)
	fake := shelltest.FakeOpencode(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("USER", "tester")
			env.Setenv("OCA_QUIET", "")
			// Scripts that want a server say so; no other starts one.
			env.Setenv("OCA_AUTOSTART", "0")
			// Ports of the script's own, never another test's.
			first, release, err := testsys.ClaimPorts()
			if err != nil {
				return err
			}
			env.Defer(release)
			env.Setenv("OCA_FIRST_PORT", strconv.Itoa(first))
			// A fake OpenCode that serves health as OpenCode does, for
			// scripts about servers that need no real one.
			env.Setenv("FAKE_OPENCODE", fake)
			env.Setenv("FAKE_OPENCODE_DIR", filepath.Dir(fake))
			// The opencode on PATH is the fake, which answers --version
			// at once: the real one takes seconds of CPU, asked by every
			// command that names an account's OpenCode. Scripts about
			// the real one take PATH_REAL.
			path := filepath.Dir(oca) + string(os.PathListSeparator) + env.Getenv("PATH")
			env.Setenv("PATH_REAL", path)
			env.Setenv("PATH", filepath.Dir(fake)+string(os.PathListSeparator)+path)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			// Scripts that need a tool skip without it on a developer's
			// machine, and fail in CI; those that need the real OpenCode
			// skip under -short too.
			switch cond {
			case "opencode":
				return testsys.HaveOpencode()
			case "systemd":
				return testsys.HaveTool("systemd-analyze")
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}
