package supervisor

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

func TestRedact(t *testing.T) {
	r := newRedactor("hunter2-password", []string{"MY_TOKEN=tok-123456789", "LANG=C.UTF-8", "ANTHROPIC_API_KEY=abcdefgh"})
	in := "pw hunter2-password tok tok-123456789 key sk-ant-api03-AbC_d-123 bearer Bearer abc.def.ghi-jkl key2 abcdefgh lang C.UTF-8"
	out := r.redact(in)
	for _, secret := range []string{"hunter2", "tok-123456789", "sk-ant-api03", "abc.def.ghi", "abcdefgh"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survived redaction: %q", secret, out)
		}
	}
	if !strings.Contains(out, "C.UTF-8") {
		t.Errorf("redaction removed a harmless value: %q", out)
	}
}

func TestAuthSecretsRedacted(t *testing.T) {
	auth := []byte(`{"google":{"type":"api","key":"AIzaFakeGoogleKey"},` +
		`"anthropic":{"type":"oauth","refresh":"rt-fake-refresh","access":"at-fake-access","expires":1}}`)
	r := newRedactor("pw", nil).with(account.AuthSecrets(auth))
	out := r.redact("k AIzaFakeGoogleKey r rt-fake-refresh a at-fake-access type api oauth")
	for _, secret := range []string{"AIza", "rt-fake", "at-fake"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survived: %q", secret, out)
		}
	}
	if !strings.Contains(out, "api oauth") {
		t.Errorf("types redacted: %q", out)
	}
}

func TestReadLinesCutsAndRedacts(t *testing.T) {
	long := strings.Repeat("x", 5000) + " sk-ant-fake-zzzzzz"
	var got []string
	readLines(strings.NewReader("a pw\n"+long+"\nlast"), newRedactor("pw", nil), func(s string) { got = append(got, s) })
	if len(got) != 3 || got[0] != "a [REDACTED]" || got[2] != "last" {
		t.Fatalf("lines = %q", got)
	}
	if len(got[1]) > maxLineLength+len("…") {
		t.Errorf("long line kept %d bytes", len(got[1]))
	}
}

func TestOutputRing(t *testing.T) {
	var o outputRing
	for i := range 50 {
		o.add(strings.Repeat("l", i))
	}
	last := o.last()
	if len(last) != outputLines || last[len(last)-1] != strings.Repeat("l", 49) {
		t.Errorf("ring kept %d lines, last %q", len(last), last[len(last)-1])
	}
}

// TestEstablishedClients: a connection of the user's to the port counts.
func TestEstablishedClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if n, _ := establishedClients(port); n != 0 {
		t.Errorf("%d clients before any connection", n)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// This process's own (the supervisor's probes and reloads) is none.
	if n, _ := establishedClients(port); n != 0 {
		t.Errorf("%d clients, want 0: the connection is this process's own", n)
	}
	c.Close()
	s.Close()
	// Another process's is one.
	done := make(chan struct{})
	defer close(done)
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			<-done
		}
	}()
	child := exec.Command("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+itoa(port)+"; sleep 30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	var n int
	if !testsys.Poll(5*time.Second, func() bool { n, _ = establishedClients(port); return n == 1 }) {
		t.Errorf("%d clients, want 1", n)
	}
}

func TestStatusFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := ReadStatus(dir)
	if err != nil || st.Phase != PhaseStopped || st.Stale {
		t.Fatalf("no file: %+v, %v", st, err)
	}
	now := time.Now()
	if err := writeStatus(dir, Status{Account: "a", Phase: PhaseReady, SupervisorPID: os.Getpid(), SupervisorStart: procfs.StartTime(os.Getpid()), StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	st, err = ReadStatus(dir)
	if err != nil || st.Phase != PhaseReady || st.Stale || !st.StartedAt.Equal(now) {
		t.Fatalf("live: %+v, %v", st, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, statusName))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("status mode %v", fi.Mode())
	}
	// Same pid, another start time: a reused pid.
	if err := writeStatus(dir, Status{Phase: PhaseReady, SupervisorPID: os.Getpid(), SupervisorStart: 1}); err != nil {
		t.Fatal(err)
	}
	if st, _ = ReadStatus(dir); st.Phase != PhaseStopped || !st.Stale {
		t.Errorf("reused pid: %+v", st)
	}
	if err := writeStatus(dir, Status{Phase: PhaseFailing, LastError: "boom", SupervisorPID: 1 << 22}); err != nil {
		t.Fatal(err)
	}
	if st, _ = ReadStatus(dir); st.Phase != PhaseFailing || st.LastError != "boom" {
		t.Errorf("failing: %+v", st)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestYoungHolderStatus: a young supervisor's status read from its
// processes claims no fault.
func TestYoungHolderStatus(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if st := fromProcesses(Status{}, cmd.Process.Pid); st.Phase != PhaseStarting || st.LastError != "" {
		t.Errorf("a young lock holder reads as %+v, want starting with no error", st)
	}
}

// TestStopWaitsOutAProbe: a process that holds the supervisor's lock a
// moment without being a supervisor (a probe: Ensure's, another Stop's,
// which hold it shared) is neither signalled nor waited for, and Stop is no
// error. (Stop sent the probing process SIGTERM, or failed with "held but
// its supervisor is unknown", as `account remove` did meeting the probe of
// a starting `oca server start`.)
func TestStopWaitsOutAProbe(t *testing.T) {
	dir := t.TempDir()
	if _, err := statedir.LockHeld(dir); err != nil {
		t.Fatal(err)
	}
	probe := exec.Command("flock", "--shared", filepath.Join(dir, "lock"), "sleep", "1")
	if err := probe.Start(); err != nil {
		t.Fatalf("flock (util-linux): %v", err)
	}
	testsys.Eventually(t, 10*time.Second, "the probe holding the lock", func() bool { return probeHolds(dir) })
	if held, _ := statedir.LockHeld(dir); held {
		t.Error("a probe's hold reads as a supervisor's")
	}
	if err := Stop(dir, 10*time.Second); err != nil {
		t.Errorf("Stop with a probe on the lock: %v", err)
	}
	// A supervisor still takes the lock once the probe lets go.
	f, err := statedir.AcquireLock(dir, 10*time.Second)
	if err != nil {
		t.Fatalf("a supervisor after the probe: %v", err)
	}
	f.Close()
	if err := probe.Wait(); err != nil {
		t.Errorf("the probe was signalled: %v", err)
	}
}

// probeHolds tells whether some process holds the lock shared.
func probeHolds(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "lock"))
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil
}

// TestStopStopsASupervisorThatTakesOver: a process Ensure started that
// waits for the lock while the supervisor holds it (here flock(1); before
// AcquireLock gave up at once on another supervisor's lock, a second
// supervisor started beside the first, by `oca exec` and the shim it runs,
// did so for 300 ms) takes the lock the moment the supervisor lets go of
// it, during the stop: Stop stops it in turn, whether it took the lock yet
// or not, and is no error. (Stop waited for the lock to be free,
// then failed with "supervisor N still holds the lock after SIGKILL",
// naming the first, and the second served on.)
func TestStopStopsASupervisorThatTakesOver(t *testing.T) {
	dir := t.TempDir()
	if _, err := statedir.LockHeld(dir); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "lock")
	start := func() *exec.Cmd {
		// -o: the lock is flock's own, not its child's.
		// A group of its own, for its child's sake, which outlives it.
		cmd := exec.Command("flock", "-o", "--exclusive", lock, "sleep", "300")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("flock (util-linux): %v", err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		return cmd
	}
	first := start()
	testsys.Eventually(t, 10*time.Second, "the first holding the lock", func() bool { return statedir.LockHolder(dir) == first.Process.Pid })
	second := start()
	// As Ensure names what it starts, for Stop to find before it holds the lock.
	markStarting(dir, second.Process.Pid)
	testsys.Eventually(t, 10*time.Second, "the second waiting for the lock", func() bool {
		st, err := procfs.ReadStat(second.Process.Pid)
		return err == nil && st.State == 'S'
	})
	if err := Stop(dir, 10*time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	// Signalled, both end (a loaded machine takes a moment).
	for _, c := range []*exec.Cmd{first, second} {
		testsys.Eventually(t, testsys.Loaded(10*time.Second), "flock ended by Stop", func() bool {
			st, err := procfs.ReadStat(c.Process.Pid)
			return err != nil || st.Zombie()
		})
	}
	if held, _ := statedir.LockHeld(dir); held {
		t.Errorf("the lock is held after Stop (by %d)", statedir.LockHolder(dir))
	}
}
