package statedir

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

func itoa(i int) string { return strconv.Itoa(i) }

func TestLeases(t *testing.T) {
	dir := t.TempDir()
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	for range 2 { // idempotent
		if err := AddLease(dir, sleeper.Process.Pid, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := AddLease(dir, os.Getpid(), ""); err != nil {
		t.Fatal(err)
	}
	// A lease of a reused pid: right pid, wrong start time.
	reused := filepath.Join(dir, leasesName, itoa(os.Getppid())+"-12345")
	if err := os.WriteFile(reused, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := LiveLeases(dir); err != nil || n != 2 {
		t.Fatalf("liveLeases = %d, %v; want 2", n, err)
	}
	if _, err := os.Stat(reused); !os.IsNotExist(err) {
		t.Errorf("lease of a reused pid not removed: %v", err)
	}
	sleeper.Process.Kill()
	sleeper.Wait()
	if n, _ := LiveLeases(dir); n != 1 {
		t.Errorf("after the holder died: %d leases, want 1", n)
	}
	if err := DropLease(dir, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if err := DropLease(dir, os.Getpid()); err != nil {
		t.Errorf("second DropLease: %v", err)
	}
	if n, _ := LiveLeases(dir); n != 0 {
		t.Errorf("after DropLease: %d leases", n)
	}
	// A lease named by pid alone is dropped by pid too.
	plain := filepath.Join(dir, leasesName, itoa(os.Getpid()))
	os.WriteFile(plain, nil, 0o600)
	if err := DropLease(dir, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(plain); !os.IsNotExist(err) {
		t.Errorf("plain lease not dropped: %v", err)
	}
	fi, err := os.Stat(LeasesDir(dir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("leases dir mode: %v %v", fi.Mode(), err)
	}
	if err := DropLease(t.TempDir(), 1); err != nil {
		t.Errorf("DropLease without a leases dir: %v", err)
	}
}

func TestLockHolder(t *testing.T) {
	dir := t.TempDir()
	if held, err := LockHeld(dir); held || err != nil {
		t.Fatalf("fresh lock held = %v, %v", held, err)
	}
	if pid := LockHolder(dir); pid != 0 {
		t.Errorf("holder of a free lock: %d", pid)
	}
	f, err := AcquireLock(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if held, _ := LockHeld(dir); !held {
		t.Errorf("lock not held")
	}
	if pid := LockHolder(dir); pid != os.Getpid() {
		t.Errorf("holder %d, want %d", pid, os.Getpid())
	}
	if _, err := AcquireLock(dir, 50*time.Millisecond); err != ErrLocked {
		t.Errorf("second acquire: %v", err)
	}
	f.Close()
	if held, _ := LockHeld(dir); held {
		t.Errorf("lock held after release")
	}
}

// TestLeaseRoot: a lease with a root lasts while its process's working
// directory is in the root; a shell that moves to another project of the
// account relinks its lease to that project's root.
func TestLeaseRoot(t *testing.T) {
	dir := t.TempDir()
	proj, other := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(proj, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	shell := exec.Command("sleep", "60")
	shell.Dir = filepath.Join(proj, "sub")
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { shell.Process.Kill(); shell.Wait() }()
	pid := shell.Process.Pid
	if err := AddLease(dir, pid, proj); err != nil {
		t.Fatal(err)
	}
	if n, err := LiveLeases(dir); err != nil || n != 1 {
		t.Fatalf("shell in the project: %d leases, %v; want 1", n, err)
	}
	if err := AddLease(dir, pid, other); err != nil {
		t.Fatal(err)
	}
	if n, _ := LiveLeases(dir); n != 0 {
		t.Errorf("lease moved to a root the shell is not in: %d leases, want 0", n)
	}
	if err := AddLease(dir, pid, proj); err != nil {
		t.Fatal(err)
	}
	if err := AddLease(dir, pid, proj); err != nil { // idempotent
		t.Fatal(err)
	}
	if n, _ := LiveLeases(dir); n != 1 {
		t.Errorf("back in the project: %d leases, want 1", n)
	}
	// A sibling whose name starts like the root is not inside it.
	sibling := exec.Command("sleep", "60")
	sibling.Dir = other
	if err := sibling.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sibling.Process.Kill(); sibling.Wait() }()
	if err := AddLease(dir, sibling.Process.Pid, proj); err != nil {
		t.Fatal(err)
	}
	if n, _ := LiveLeases(dir); n != 1 {
		t.Errorf("a process outside the root keeps a lease: %d leases, want 1", n)
	}
}

// TestAddLeaseConcurrentAnchor: many shells entering one project at once
// (AddLease from many goroutines, on a fresh leases directory each round):
// every lease is a link of the one anchor, so none is taken for a lease of
// an unknown project that holds the server up while its shell lives.
func TestAddLeaseConcurrentAnchor(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for round := 0; round < 20; round++ {
		dir := t.TempDir()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 64 {
			wg.Go(func() {
				// Pids past pid_max: start time 0, and no clash with a
				// live process.
				if err := AddLease(dir, 1<<23+i, root); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		anchor := filepath.Join(dir, leasesName, anchorName(root))
		fi, err := os.Stat(anchor)
		if err != nil {
			t.Fatal(err)
		}
		if n := fi.Sys().(*syscall.Stat_t).Nlink; n != 65 {
			t.Errorf("round %d: the anchor has %d links, want 65 (itself and 64 leases)", round, n)
		}
		for i := range 64 {
			if !sameFile(anchor, filepath.Join(dir, leasesName, fmt.Sprintf("%d-0", 1<<23+i))) {
				t.Errorf("round %d: lease %d is not a link of the anchor", round, i)
			}
		}
		ents, _ := os.ReadDir(LeasesDir(dir))
		if len(ents) != 65 {
			t.Errorf("round %d: %d entries in leases/, want 65", round, len(ents))
		}
	}
}

// TestAcquireLockHeldBySupervisor: another supervisor's lock (exclusive)
// is ErrLocked at once, not tried again for the wait: a supervisor that
// waited would take over the moment the other stopped, even for a stop.
func TestAcquireLockHeldBySupervisor(t *testing.T) {
	dir := t.TempDir()
	f, err := AcquireLock(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	begin := time.Now()
	if g, err := AcquireLock(dir, time.Minute); !errors.Is(err, ErrLocked) {
		g.Close()
		t.Fatalf("a second AcquireLock: %v, want ErrLocked", err)
	}
	if took := time.Since(begin); took > 20*time.Second {
		t.Errorf("ErrLocked after %s of a minute's wait", took)
	}
}
