package testsys

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestReaper runs a test binary (testdata/reapfixture) whose test starts
// processes as oca's tests do: detached with setsid and a fork, a child
// with a grandchild, one as another user, and one detached under an
// environment of its own; kills it with SIGKILL mid-test, and finds none
// of them 10 s later, nor its temporary directory or tmpfs, and the
// command it left the reaper run. Without a reaper they are all left, so the check
// finds what a reaper misses; the fallback (no cgroups) misses the one
// that left the tree at once with an environment of its own, and only
// that one. A run that passes but leaves a process fails, naming it, and
// the process is killed.
func TestReaper(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "reapfixture.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "github.com/oca-sh/oca/internal/testsys/testdata/reapfixture").CombinedOutput(); err != nil {
		t.Fatalf("building the fixture: %v\n%s", err, out)
	}
	u := AddUser(t)
	all := []string{"detached", "detached.child", "parent", "parent.child", "user", "bare"}

	for _, tc := range []struct {
		mode     string
		left     []string // what must be left 10 s after the kill
		mayLeave string   // and what may be
		// nobodyReads: the fixture's stderr, which the reaper shares, has
		// no reader by the time of the kill, as when go test itself was
		// killed or interrupted first.
		nobodyReads bool
	}{
		{"", nil, "", false},
		{"", nil, "", true},
		// The fallback sees bare only if it looks in the moment before
		// bare leaves the tree.
		{"fallback", nil, "bare", false},
		{"off", all, "", false},
	} {
		name := tc.mode
		if name == "" {
			name = "cgroup"
			if tc.nobodyReads {
				name = "cgroup, stderr unread"
			}
			RequireRoot(t)
			if unifiedRoot() == "" {
				SkipOrFail(t, "no cgroup2 hierarchy")
			}
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "-test.run", "^TestTree$", "-test.v")
			cmd.Env = append(os.Environ(), "FIXTURE_DIR="+dir, "FIXTURE_UID="+strconv.Itoa(u.UID), "FIXTURE_GID="+strconv.Itoa(u.GID), ReaperEnv+"="+tc.mode)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr Buffer
			cmd.Stderr = &stderr
			var unread, stderrW *os.File
			if tc.nobodyReads {
				if unread, stderrW, err = os.Pipe(); err != nil {
					t.Fatal(err)
				}
				cmd.Stderr = stderrW
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if stderrW != nil {
				stderrW.Close()
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			sc := bufio.NewScanner(stdout)
			var out strings.Builder
			for sc.Scan() && sc.Text() != "ready" {
				out.WriteString(sc.Text() + "\n")
			}
			if sc.Err() != nil || sc.Text() != "ready" {
				t.Fatalf("the fixture did not get ready: %v\n%s%s", sc.Err(), out.String(), stderr.String())
			}
			procs := map[string]procKey{}
			for _, n := range all {
				b, err := os.ReadFile(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
				if err != nil {
					t.Fatalf("%s: %q", n, b)
				}
				p, ok := readProc(pid)
				if !ok {
					t.Fatalf("%s (%d) does not run", n, pid)
				}
				procs[n] = procKey{pid, p.start}
				t.Cleanup(func() { kill(procs[n]) })
			}
			cg := ""
			if tc.mode == "" {
				cg = worldOf(cmd.Process.Pid)
			}
			if tc.mode == "" && cg == "" {
				t.Fatalf("the fixture (%d) runs in no world's cgroup", cmd.Process.Pid)
			}
			if unread != nil {
				unread.Close()
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// Wait returns once the fixture is dead and the reaper, which
			// holds its stderr, is done.
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(Loaded(60 * time.Second)):
				t.Fatalf("the reaper did not end:\n%s", stderr.String())
			}
			if tc.nobodyReads {
				// Wait returned with the fixture's end, not the reaper's,
				// which held no pipe of Wait's: wait for what the checks
				// below look for (the reaper's last steps).
				gone := []string{filepath.Join(unifiedRoot(), cg), readFile(t, filepath.Join(dir, "tmpdir")), readFile(t, filepath.Join(dir, "tmpfs"))}
				Poll(Loaded(60*time.Second), func() bool {
					for _, p := range gone {
						if _, err := os.Stat(p); !os.IsNotExist(err) {
							return false
						}
					}
					_, err := os.Stat(filepath.Join(dir, "onkill"))
					return err == nil
				})
			}
			var left []string
			ok := Poll(10*time.Second, func() bool {
				left = nil
				for _, n := range all {
					if alive(procs[n]) && n != tc.mayLeave {
						left = append(left, n)
					}
				}
				return strings.Join(left, " ") == strings.Join(tc.left, " ")
			})
			if !ok {
				t.Errorf("10 s after the kill, left: %v; want %v\n%s", left, tc.left, stderr.String())
			}
			if cg != "" {
				if _, err := os.Stat(filepath.Join(unifiedRoot(), cg)); !os.IsNotExist(err) {
					t.Errorf("the fixture's cgroup %s is left: %v", cg, err)
				}
			}
			tmpdir, tmpfs := readFile(t, filepath.Join(dir, "tmpdir")), readFile(t, filepath.Join(dir, "tmpfs"))
			_, err = os.Stat(filepath.Join(dir, "onkill"))
			if reaped := tc.mode != "off"; reaped {
				if err != nil {
					t.Errorf("the reaper did not run the command OnKill left it: %v", err)
				}
				for _, p := range []string{tmpdir, tmpfs} {
					if _, err := os.Stat(p); !os.IsNotExist(err) {
						t.Errorf("the fixture's %s is left: %v", p, err)
					}
				}
			} else {
				if err == nil {
					t.Errorf("without a reaper, the command OnKill left ran")
				}
				if len(mountsUnder(filepath.Dir(tmpfs))) == 0 {
					t.Errorf("without a reaper, the tmpfs %s is gone: the check proves nothing", tmpfs)
				}
				syscall.Unmount(tmpfs, syscall.MNT_DETACH)
				os.RemoveAll(filepath.Dir(tmpfs))
				os.RemoveAll(filepath.Dir(tmpdir))
			}
		})
	}

	t.Run("a TestMain that works on after Main", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "-test.run", "^$")
		cmd.Env = append(os.Environ(), "FIXTURE_AFTER="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("the run: %v, want success\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "after")); err != nil {
			t.Errorf("what TestMain did after Main did not happen: %v\n%s", err, out)
		}
	})

	t.Run("a passing run that leaves a process", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "-test.run", "^TestLeave$")
		// What it leaves stays: no use waiting for it to end.
		cmd.Env = append(os.Environ(), "FIXTURE_DIR="+dir, leftoverWaitEnv+"=100ms")
		out, err := cmd.CombinedOutput()
		b, rerr := os.ReadFile(filepath.Join(dir, "left"))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if rerr != nil || pid == 0 {
			t.Fatalf("the fixture left no pid: %v\n%s", rerr, out)
		}
		if p, ok := readProc(pid); ok && !p.zombie {
			t.Cleanup(func() { kill(procKey{pid, p.start}) })
			t.Errorf("the process left (%d) still runs after the run", pid)
		}
		if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != 1 {
			t.Errorf("the run: %v, want exit status 1\n%s", err, out)
		}
		if want := "testsys: 1 processes outlived the tests"; !bytes.Contains(out, []byte(want)) || !bytes.Contains(out, []byte(strconv.Itoa(pid)+" uid 0: sleep 3600")) {
			t.Errorf("the run does not say %q and name %d:\n%s", want, pid, out)
		}
	})
}

func alive(k procKey) bool {
	p, ok := readProc(k.pid)
	return ok && !p.zombie && p.start == k.start
}

func kill(k procKey) {
	if alive(k) {
		syscall.Kill(k.pid, syscall.SIGKILL)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWorldTmpIsTmpfs: as root, the tests' TMPDIR is a tmpfs of the
// world's own, gone with the world (TestReaper: its tmpdir is removed).
func TestWorldTmpIsTmpfs(t *testing.T) {
	t.Parallel()
	RequireRoot(t)
	var fs syscall.Statfs_t
	if err := syscall.Statfs(t.TempDir(), &fs); err != nil {
		t.Fatal(err)
	}
	const tmpfsMagic = 0x01021994
	if fs.Type != tmpfsMagic {
		t.Errorf("the tests' TMPDIR (%s) is on a filesystem of type %#x, not a tmpfs", os.TempDir(), fs.Type)
	}
	if dir := os.Getenv(worldDirEnv); !slices.Contains(mountsUnder(dir), filepath.Join(dir, "tmp")) {
		t.Errorf("no mount on the world's tmp in %s", dir)
	}
}
