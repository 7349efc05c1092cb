package testsys

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// M is what Main runs: a *testing.M, or a wrapper of one whose Run sets
// up around m.Run.
type M interface{ Run() int }

// The environment of a world.
const (
	// reapEnv, set on the reaper alone, makes the test binary the reaper
	// of the world it names (see init).
	reapEnv = "OCA_TEST_REAP"
	// WorldEnv is set in the test process for its children to inherit:
	// the world's id, by which the reaper's fallback finds them.
	WorldEnv = "OCA_TEST_WORLD"
	// ReaperEnv chooses how a world is reaped, for the reaper's own test:
	// "fallback" reaps it as where cgroups cannot be used, "off" not at
	// all. Unset, a world is reaped by its cgroup where it can be.
	ReaperEnv = "OCA_TEST_REAPER"
	// worldDirEnv is the world's directory: its TMPDIR, and the commands
	// OnKill leaves the reaper.
	worldDirEnv = "OCA_TEST_WORLD_DIR"
	// leftoverWaitEnv, a Go duration, is how long Main waits for the
	// world's processes to end once the tests are done (unset:
	// Loaded(2 s)), for the reaper's own test of a run that leaves one.
	leftoverWaitEnv = "OCA_TEST_LEFTOVER_WAIT"
	// sharedTmpEnv is the temporary directory of the machine (TMPDIR before
	// Main changed it), for what worlds share: ClaimPorts's locks.
	sharedTmpEnv = "OCA_TEST_SHARED_TMPDIR"
)

// Main runs a package's tests (m.Run) in a world of their own and returns
// the exit code for os.Exit; every TestMain of a package whose tests start
// processes is
//
//	func TestMain(m *testing.M) { os.Exit(testsys.Main(m)) }
//
// Every process the tests start ends when the test process does, however
// it ends (a test's timeout panic, a SIGKILL): supervisors that detach
// (setsid, a double fork), OpenCodes, tmux servers, shells, fakes, a
// systemd user manager, and processes run as another user. A reaper, the
// test binary run again (init dispatches to it), waits for the test
// process to end (its end of a pipe closes) and then kills them all:
//
//   - As root, with a cgroup2 hierarchy (/sys/fs/cgroup/unified on a
//     hybrid machine, or /sys/fs/cgroup): the reaper makes the world's
//     cgroup (oca-test.PID.RANDOM, inside the test process's own world when
//     that runs in one), moves the test process into its leaf "test", and
//     at the end kills the whole cgroup (cgroup.kill, or freezing it and
//     killing each process where the kernel lacks cgroup.kill) and removes
//     it. Every process started since inherits the cgroup, whatever its
//     session, parent or user, so this misses nothing the tests start
//     (containers, which the Docker engine starts, are not the tests'
//     processes).
//   - Elsewhere (no root, no cgroup2), the fallback: while the test
//     process runs, the reaper notes its descendants every 250 ms, and at
//     the end kills those still alive, the processes whose environment
//     holds WorldEnv (set here for the tests' children to inherit), the
//     descendants of both, and the process groups they lead. It misses a
//     process that left the tree (setsid and a double fork) within 250 ms
//     of its start, under an environment of the test's own making
//     (without WorldEnv), and processes of other users it may not signal.
//
// The world has a directory of its own too, the tests' TMPDIR (so their
// t.TempDir, os.MkdirTemp and what their programs make there); the reaper
// removes it at the end, after unmounting what is mounted in it (Tmpfs)
// and running the commands OnKill left it, for what is no process of the
// world (a container, a user).
//
// A run that ends normally must leave nothing either: once m.Run returns,
// Main waits a moment (Loaded(2 s)) for the world's processes to end,
// and if any are left it names them and fails the run; the reaper kills
// them.
func Main(m M) int {
	w, err := startWorld()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsys: %v\n", err)
		return 1
	}
	code := m.Run()
	within := Loaded(2 * time.Second)
	if d, err := time.ParseDuration(os.Getenv(leftoverWaitEnv)); err == nil {
		within = d
	}
	if left := w.leftovers(within); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "testsys: %d processes outlived the tests (the reaper kills them):\n", len(left))
		for _, pid := range left {
			fmt.Fprintf(os.Stderr, "  %s\n", describe(pid))
		}
		if code == 0 {
			code = 1
		}
	}
	return code
}

// world is the test process's side of its world.
type world struct {
	id     string
	dir    string // the world's directory
	cgroup string // the world's cgroup; "" when the fallback reaps it
	reaper int    // the reaper's pid (0: none)
	// alive is the pipe's end the reaper waits on, open as long as this
	// process runs: a bare descriptor, not an *os.File, whose finalizer
	// would close it once Main has returned and the collector runs, while
	// the process (its TestMain's own cleanup) still ran; the reaper would
	// then kill it. Close-on-exec: no child holds it.
	alive int
}

// startWorld starts the reaper and waits until it has made the world.
func startWorld() (*world, error) {
	b := make([]byte, 4)
	rand.Read(b)
	w := &world{id: strconv.Itoa(os.Getpid()) + "." + hex.EncodeToString(b)}
	if err := os.Setenv(WorldEnv, w.id); err != nil {
		return nil, fmt.Errorf("starting the test world: %w", err)
	}
	mode := os.Getenv(ReaperEnv)
	if mode == "off" {
		// Nor a directory: not an outer world's either.
		return w, os.Unsetenv(worldDirEnv)
	}
	if err := w.makeDir(); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	stdin, alive := os.NewFile(uintptr(fds[0]), "reaper-stdin"), fds[1]
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Args = []string{"oca-test-reaper"}
	cmd.Env = append(os.Environ(), reapEnv+"="+w.id+":"+strconv.Itoa(os.Getpid())+":"+mode+":"+w.dir)
	cmd.Stdin = stdin
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = []*os.File{readyW}
	// A session of its own: the terminal's ^C and hangup, sent to the test
	// process's group, do not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	stdin.Close()
	readyW.Close()
	if err != nil {
		syscall.Close(alive)
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	w.alive, w.reaper = alive, cmd.Process.Pid
	// Released, not waited for: it outlives this process.
	cmd.Process.Release()
	readyR.SetReadDeadline(time.Now().Add(Loaded(30 * time.Second)))
	line, err := bufio.NewReader(readyR).ReadString('\n')
	readyR.Close()
	if err != nil {
		return nil, fmt.Errorf("the reaper did not start: %w", err)
	}
	how, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch how {
	case "cgroup":
		w.cgroup = arg
	case "fallback":
		if mode != "fallback" && os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			return nil, fmt.Errorf("the reaper cannot use cgroups as root (%s), and CI must reap by cgroup", arg)
		}
	default:
		return nil, fmt.Errorf("the reaper said %q", line)
	}
	return w, nil
}

// makeDir makes the world's directory and its tmp, the tests' TMPDIR
// from now on: 1777, as /tmp is, for the programs tests run as other
// users.
func (w *world) makeDir() error {
	shared := os.Getenv(sharedTmpEnv)
	if shared == "" {
		shared = os.TempDir()
	}
	w.dir = filepath.Join(os.TempDir(), "oca-test."+w.id)
	tmp := filepath.Join(w.dir, "tmp")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{w.dir, 0o755}, {filepath.Join(w.dir, onKillDir), 0o700}, {tmp, 0o777 | os.ModeSticky}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			return fmt.Errorf("making the test world's directory: %w", err)
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("making the test world's directory: %w", err)
		}
	}
	for k, v := range map[string]string{sharedTmpEnv: shared, "TMPDIR": tmp, worldDirEnv: w.dir} {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("making the test world's directory: %w", err)
		}
	}
	return nil
}

// members lists the world's live processes other than this one and the
// reaper.
func (w *world) members() []int {
	var pids []int
	if w.cgroup != "" {
		pids = cgroupPids(w.cgroup)
	} else {
		ps := allProcs()
		for _, p := range descendants(ps, os.Getpid()) {
			pids = append(pids, p.pid)
		}
		for _, p := range ps {
			if hasEnv(p.pid, WorldEnv+"="+w.id) {
				pids = append(pids, p.pid)
			}
		}
	}
	var out []int
	for _, pid := range pids {
		if p, ok := readProc(pid); ok && !p.zombie && pid != os.Getpid() && pid != w.reaper && !slices.Contains(out, pid) {
			out = append(out, pid)
		}
	}
	return out
}

// leftovers waits up to within for the world's processes to end, and
// lists those that did not.
func (w *world) leftovers(within time.Duration) []int {
	var left []int
	Poll(within, func() bool {
		left = w.members()
		return len(left) == 0
	})
	return left
}

// init makes the test binary the reaper when it is run as one.
func init() {
	if v, ok := os.LookupEnv(reapEnv); ok {
		os.Exit(reap(v))
	}
}

// reap is the reaper of the world that v names (ID:PID:MODE): it makes
// the world, says how on fd 3, waits for its test process to end (EOF on
// stdin), and kills what is left of the world.
func reap(v string) int {
	// SIGPIPE too: its stderr is the test process's, read by go test,
	// which may be gone by the time there is something to say (go test
	// killed, or interrupted): a write then fails, and the reaper goes on
	// killing, where the signal ended it with the world alive.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	f := strings.SplitN(v, ":", 4)
	if len(f) != 4 {
		fmt.Fprintf(os.Stderr, "testsys: reaper: bad %s=%q\n", reapEnv, v)
		return 2
	}
	id, mode, dir := f[0], f[2], f[3]
	testPid, err := strconv.Atoi(f[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsys: reaper: bad %s=%q\n", reapEnv, v)
		return 2
	}
	ready := os.NewFile(3, "ready")
	cg, why := "", "chosen"
	if mode != "fallback" {
		cg, err = makeWorldCgroup(testPid, id)
		if err != nil {
			why = err.Error()
		}
	}
	mountTmp(dir)
	if cg != "" {
		fmt.Fprintf(ready, "cgroup %s\n", cg)
	} else {
		fmt.Fprintf(ready, "fallback %s\n", why)
	}
	ready.Close()

	ended := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(ended)
	}()
	if cg != "" {
		<-ended
		code := reapCgroup(testPid, cg)
		return max(code, clearDir(dir))
	}
	// The fallback: note the test process's descendants until it ends.
	seen := map[procKey]bool{}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, p := range descendants(allProcs(), testPid) {
			if p.pid != os.Getpid() {
				seen[procKey{p.pid, p.start}] = true
			}
		}
		select {
		case <-ended:
			code := reapFallback(testPid, id, seen)
			return max(code, clearDir(dir))
		case <-tick.C:
		}
	}
}

// mountTmp mounts, as root, a tmpfs of the world's own on its tmp (the
// tests' TMPDIR), which clearDir unmounts: the tests' homes, projects and
// state then cost no disk. On a disk, the thousands of small files a
// package's tests make and remove (every test's home, every atomic write
// with its fsync) cost the kernel more time than the programs that wrote
// them: ext4 looks, for each new inode, past those deleted a moment ago.
// The tests are of oca, not of a filesystem (those that need one make
// it: Tmpfs). Where it cannot mount, tmp stays a directory of the disk.
func mountTmp(dir string) {
	if os.Geteuid() != 0 {
		return
	}
	syscall.Mount("tmpfs", filepath.Join(dir, "tmp"), "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=1777")
}

// makeWorldCgroup makes the world's cgroup and moves the test process into
// its leaf. The world goes inside the test process's own world, if it runs
// in one (this is a test's test binary): so the outer world's reaper kills
// this one's processes too, should both tests end at once.
func makeWorldCgroup(testPid int, id string) (string, error) {
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("not root")
	}
	root := unifiedRoot()
	if root == "" {
		return "", fmt.Errorf("no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	}
	parent := root
	if outer := worldOf(testPid); outer != "" {
		parent = filepath.Join(root, outer)
	}
	dir := filepath.Join(parent, worldPrefix+id)
	if err := os.MkdirAll(filepath.Join(dir, testLeaf), 0o755); err != nil {
		return "", fmt.Errorf("making the world's cgroup: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, testLeaf, "cgroup.procs"), []byte(strconv.Itoa(testPid)), 0); err != nil {
		removeCgroup(dir)
		return "", fmt.Errorf("moving the test process into its cgroup: %w", err)
	}
	return dir, nil
}

// reapCgroup kills what is left in the world's cgroup once its test
// process has ended, and removes the cgroup, and the named systemd
// hierarchy's of the same path (StartUserManager's).
func reapCgroup(testPid int, cg string) int {
	code := 0
	// The test process itself may be listed a moment after its files are
	// closed: it is not what is left.
	pids := slices.DeleteFunc(cgroupPids(cg), func(pid int) bool { return pid == testPid })
	if len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "testsys: reaper: test process %d ended; killing the %d processes left in %s:\n", testPid, len(pids), cg)
		for _, pid := range pids {
			fmt.Fprintf(os.Stderr, "  %s\n", describe(pid))
		}
	}
	if err := killCgroup(cg); err != nil {
		fmt.Fprintf(os.Stderr, "testsys: reaper: %v\n", err)
		code = 1
	}
	if err := removeCgroup(cg); err != nil {
		fmt.Fprintf(os.Stderr, "testsys: reaper: %v\n", err)
		code = 1
	}
	if root := unifiedRoot(); root != "" && root != "/sys/fs/cgroup" {
		if rel, err := filepath.Rel(root, cg); err == nil {
			if v1 := filepath.Join(systemdV1, rel); dirExists(v1) {
				if err := removeCgroup(v1); err != nil {
					fmt.Fprintf(os.Stderr, "testsys: reaper: %v\n", err)
					code = 1
				}
			}
		}
	}
	return code
}

// reapFallback kills, once the test process has ended, the processes seen
// below it that still run, those whose environment names the world, the
// descendants of both, and the process groups they lead; again until none
// is found (one may have forked meanwhile).
func reapFallback(testPid int, id string, seen map[procKey]bool) int {
	killed := map[procKey]bool{}
	for range 20 {
		ps := allProcs()
		found := map[procKey]proc{}
		for _, p := range ps {
			if p.pid != os.Getpid() && (seen[procKey{p.pid, p.start}] || hasEnv(p.pid, WorldEnv+"="+id)) {
				found[procKey{p.pid, p.start}] = p
				for _, d := range descendants(ps, p.pid) {
					found[procKey{d.pid, d.start}] = d
				}
			}
		}
		if len(found) == 0 {
			break
		}
		for k, p := range found {
			if p.pgid == p.pid {
				syscall.Kill(-p.pgid, syscall.SIGKILL)
			}
			syscall.Kill(p.pid, syscall.SIGKILL)
			killed[k] = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(killed) > 0 {
		fmt.Fprintf(os.Stderr, "testsys: reaper: test process %d ended; killed %d processes of its world\n", testPid, len(killed))
	}
	return 0
}

// procKey names a process for good: a pid reused has another start time.
type procKey struct {
	pid   int
	start uint64
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// clearDir runs the commands OnKill left in the world's directory, the
// last one left first, then unmounts what is mounted in it and removes it.
func clearDir(dir string) int {
	code := 0
	cmds, _ := filepath.Glob(filepath.Join(dir, onKillDir, "*"))
	slices.Sort(cmds)
	slices.Reverse(cmds)
	for _, file := range cmds {
		if err := runOnKill(file); err != nil {
			fmt.Fprintf(os.Stderr, "testsys: reaper: %v\n", err)
			code = 1
		}
	}
	for _, m := range mountsUnder(dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "testsys: reaper: unmounting %s: %v\n", m, err)
			code = 1
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(os.Stderr, "testsys: reaper: %v\n", err)
		code = 1
	}
	return code
}

// mountsUnder lists the mount points inside dir, deepest first, from
// /proc/self/mountinfo.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// Field 5 is the mount point, with space, tab, newline and
		// backslash octal-escaped.
		if len(f) > 4 {
			if m := unescapeMount(f[4]); strings.HasPrefix(m, dir+"/") {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
