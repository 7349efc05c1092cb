package shelltest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// builds caches the binaries built in this test process, by import path.
type builds struct {
	mu    sync.Mutex
	dir   string
	bins  map[string]string
	hooks map[string]string // HookFile's, by shell and binary
	env   []string          // BuildEnv's, once asked
}

var built builds

// Oca builds oca once per test process, as install.sh builds it (static,
// stripped), and oca-export beside it, as install.sh builds and installs
// it (with the tag oca_notoml: it links no TOML parser), so that tests and
// benchmarks run what users run: the hook oca writes runs oca-export.
func Oca(t testing.TB) string {
	t.Helper()
	return build(t, "github.com/oca-sh/oca/cmd/oca", "oca", "github.com/oca-sh/oca/cmd/oca-export")
}

// ExportTags are the build tags install.sh builds oca-export with.
const ExportTags = "oca_notoml"

// FakeOpencode builds the supervisor's fake OpenCode once per test process:
// it serves /global/health as OpenCode does, and prints any other command it
// is given (see internal/testsys/testdata/fakeopencode). It is named opencode, so
// that its directory can go first on a PATH.
func FakeOpencode(t testing.TB) string {
	t.Helper()
	return build(t, "github.com/oca-sh/oca/internal/testsys/testdata/fakeopencode", "opencode")
}

// build builds pkg as dir/name, and the commands also beside it (named as
// their directories) with ExportTags, the go builds at once (each linked
// once per source for all test binaries: testsys.GoBuild).
func build(t testing.TB, pkg, name string, also ...string) string {
	built.mu.Lock()
	defer built.mu.Unlock()
	if bin, ok := built.bins[pkg]; ok {
		return bin
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "oca-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir, built.bins = dir, map[string]string{}
	}
	dir := filepath.Join(built.dir, fmt.Sprint(len(built.bins)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	env := buildEnv(t)
	flags := []string{"-trimpath", "-ldflags", "-s -w"}
	errs := make([]error, 1+len(also))
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = testsys.GoBuild(env, pkg, bin, flags...) })
	for i, p := range also {
		wg.Go(func() {
			errs[1+i] = testsys.GoBuild(env, p, filepath.Join(dir, path.Base(p)), append([]string{"-tags", ExportTags}, flags...)...)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	built.bins[pkg] = bin
	return bin
}

// HookFile is a file that holds what `bin hook shell` prints, run once per
// test process for each: the script depends on bin's path alone (and on
// whether oca-export is beside it), and each run of oca costs tens of
// milliseconds of CPU on a loaded machine, for each of hundreds of shells.
func HookFile(t testing.TB, shell, bin string) string {
	t.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	key := shell + "\x00" + bin
	if f, ok := built.hooks[key]; ok {
		return f
	}
	out, err := exec.Command(bin, "hook", shell).Output()
	if err != nil {
		t.Fatalf("%s hook %s: %v", bin, shell, err)
	}
	f, err := os.CreateTemp(built.dir, "hook-*."+shell)
	if err == nil {
		_, err = f.Write(out)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if built.hooks == nil {
		built.hooks = map[string]string{}
	}
	built.hooks[key] = f.Name()
	return f.Name()
}

// BuildEnv is the environment install.sh builds oca with, for a go build
// of the tests' own that must build as it does: static (CGO_ENABLED=0), and
// with Go's classic garbage collector where the go on PATH still offers it
// (GOEXPERIMENT=nogreenteagc, as install.sh asks it).
func BuildEnv(t testing.TB) []string {
	t.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	return buildEnv(t)
}

// buildEnv is BuildEnv with built.mu held.
func buildEnv(t testing.TB) []string {
	t.Helper()
	if built.env != nil {
		return built.env
	}
	experiment := "nogreenteagc"
	if e := os.Getenv("GOEXPERIMENT"); e != "" {
		experiment = e + "," + experiment
	}
	probe := exec.Command("go", "env", "GOEXPERIMENT")
	probe.Env = append(os.Environ(), "GOEXPERIMENT="+experiment)
	if err := probe.Run(); err != nil {
		experiment = os.Getenv("GOEXPERIMENT")
	}
	built.env = []string{"CGO_ENABLED=0", "GOEXPERIMENT=" + experiment}
	return built.env
}

// RemoveBuilds deletes what Oca and FakeOpencode built: call it from
// TestMain after m.Run.
func RemoveBuilds() {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.dir != "" {
		os.RemoveAll(built.dir)
		built.dir, built.bins, built.hooks = "", nil, nil
	}
}

// Main runs a package's tests as testsys.Main does, then removes what Oca
// and FakeOpencode built, and returns the exit code: TestMain's
// os.Exit(shelltest.Main(m)).
func Main(m *testing.M) int {
	code := testsys.Main(m)
	RemoveBuilds()
	return code
}
