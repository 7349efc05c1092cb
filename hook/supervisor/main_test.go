package supervisor

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
	"github.com/oca-sh/oca/internal/testsys"
)

// Binaries built once per package run by TestMain.
type testBins struct {
	fake     string // testdata/fakeopencode
	ocaserve string // testdata/ocaserve: `oca serve` for Ensure
	squatter string // testdata/squatter, in a directory any user may enter
}

var bins testBins // set once in TestMain, read-only afterwards

func TestMain(m *testing.M) {
	// Without the real OpenCode's tests (under -short), the tests wait on
	// fake servers and clocks (idle, backoff, reload settling), not on
	// the CPU: more at once. The real OpenCode's starts are CPU-bound:
	// with them, twice go test's default, so that the fakes' tests, which
	// wait, do not queue for minutes behind two real ones on a loaded
	// machine (the package took up to 507 s there, with the default).
	flag.Parse()
	if real, _ := testsys.HaveOpencode(); !real {
		testsys.MoreParallel(4)
	} else {
		testsys.MoreParallel(2)
	}
	os.Exit(testsys.Main(setup{m}))
}

// setup builds and sets up what the tests share (runMain) around m.Run.
type setup struct{ m *testing.M }

func (s setup) Run() int { return runMain(s.m) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "oca-server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Built before HOME and XDG_CACHE_HOME change below, so that go build
	// uses the user's build cache.
	// Another user runs the squatter: its directory is 0755.
	if err := os.Mkdir(filepath.Join(dir, "pub"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Chmod(dir, 0o755)
	bins = testBins{fake: filepath.Join(dir, "fakeopencode"), ocaserve: filepath.Join(dir, "ocaserve"), squatter: filepath.Join(dir, "pub", "squatter")}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for pkg, out := range map[string]string{"github.com/oca-sh/oca/internal/testsys/testdata/fakeopencode": bins.fake, "./testdata/ocaserve": bins.ocaserve, "github.com/oca-sh/oca/internal/testsys/squatter/testdata/squatter": bins.squatter} {
		wg.Go(func() {
			if err := testsys.GoBuild(nil, pkg, out, "-ldflags=-s -w"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Nothing here may touch the real user's files: OpenCode and the
	// supervisor get a home of their own.
	home := filepath.Join(dir, "home")
	for k, v := range map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_CACHE_HOME":  filepath.Join(home, ".cache"),
		"XDG_STATE_HOME":  filepath.Join(home, ".local", "state"),
		"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
	} {
		if err := os.MkdirAll(v, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv(k, v)
	}
	os.Unsetenv("XDG_RUNTIME_DIR")
	os.Unsetenv("OPENCODE_SERVER_PASSWORD")
	return m.Run()
}

// testAccount is a test account: its dirs under t.TempDir and a Config.
type testAccount struct {
	cfg Config
}

func newAccount(t testing.TB, name string) testAccount {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{
		Account:      name,
		Port:         testsys.FreePort(t),
		DataHome:     filepath.Join(dir, "data"),
		Password:     "pw-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Opencode:     bins.fake,
		StateDir:     filepath.Join(dir, "state"),
		StopGrace:    300 * time.Millisecond,
		BackoffMin:   50 * time.Millisecond,
		BackoffMax:   200 * time.Millisecond,
		PollInterval: 200 * time.Millisecond,
		// A real OpenCode may take minutes to start on a loaded machine:
		// the supervisor's 60 s would kill it mid-test (a reply cut, a
		// reload its restart made needless).
		ReadyTimeout: testsys.OpencodeWait(),
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataHome, "opencode"), 0o700); err != nil {
		t.Fatal(err)
	}
	return testAccount{cfg: cfg}
}

// withEnv returns cfg with OpenCode's environment built from this process's
// plus extra.
func (a testAccount) withEnv(extra map[string]string) Config {
	c := a.cfg
	c.Env = BuildEnv(os.Environ(), c, extra)
	return c
}

// served is a Serve running in a goroutine of the test.
type served struct {
	cancel context.CancelFunc
	done   chan error
	log    *testsys.Buffer
}

func startServe(t testing.TB, cfg Config) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{cancel: cancel, done: make(chan error, 1), log: &testsys.Buffer{}}
	go func() { s.done <- Serve(ctx, cfg, s.log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
		if t.Failed() {
			t.Logf("supervisor log:\n%s", s.log.String())
		}
	})
	return s
}

// wait returns Serve's result, failing the test after d.
func (s *served) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // keep it for Cleanup
		return err
	case <-time.After(d):
		t.Fatalf("Serve still running after %s; log:\n%s", d, s.log.String())
		return nil
	}
}

// waitPhase waits for ReadStatus to show phase. A status that ReadStatus
// made up from the processes of a supervisor running in this test process
// (Serve in a goroutine, before it wrote status.json) does not count: this
// process's children are every test's OpenCodes.
func waitPhase(t testing.TB, stateDir, phase string, d time.Duration) Status {
	t.Helper()
	var st Status
	testsys.Eventually(t, d, "phase "+phase, func() bool {
		var err error
		st, err = ReadStatus(stateDir)
		if err != nil || st.Phase != phase {
			return false
		}
		if st.SupervisorPID == os.Getpid() {
			// A supervisor in this process: its status file is the truth.
			// Read from processes, "ready" may be another test's OpenCode (a
			// child of this process too), and the file checked after it may
			// be this one's, written in between, still starting.
			file, err := readStatusFile(stateDir)
			if err != nil || file.Phase != phase || file.SupervisorPID != st.SupervisorPID || file.SupervisorStart != st.SupervisorStart {
				return false
			}
			st = file
		}
		return true
	})
	return st
}

// accountProcs lists the live processes whose environment has
// XDG_DATA_HOME=dataHome: every OpenCode of the account and its children.
func accountProcs(dataHome string) []int {
	want := []byte("XDG_DATA_HOME=" + dataHome + "\x00")
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, b...), append([]byte{0}, want...)) {
			continue
		}
		if procfs.Alive(pid, 0) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procsWithArgs lists live processes whose command line contains all of args.
func procsWithArgs(args ...string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cl := procfs.CmdlineString(pid)
		ok := cl != ""
		for _, a := range args {
			ok = ok && strings.Contains(cl, a)
		}
		if ok && procfs.Alive(pid, 0) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// noProcessLeft checks that the account has no process and its port is free.
func noProcessLeft(t testing.TB, cfg Config) {
	t.Helper()
	testsys.Eventually(t, testsys.OpencodeWait(), "no process of "+cfg.Account+" left", func() bool { return len(accountProcs(cfg.DataHome)) == 0 })
	testsys.Eventually(t, testsys.OpencodeWait(), fmt.Sprintf("port %d free", cfg.Port), func() bool {
		ls, err := nettcp.Listeners(cfg.Port)
		return err == nil && len(ls) == 0
	})
}
