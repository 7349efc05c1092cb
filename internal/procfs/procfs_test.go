package procfs

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oca-sh/oca/internal/testsys"
)

func TestParseSocket(t *testing.T) {
	// Lines as Linux writes them, on a little-endian machine for the
	// addresses' words.
	for _, c := range []struct {
		line  string
		local string
		state State
		uid   int
	}{
		{"   0: 0100007F:2711 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0", "127.0.0.1:10001", Listen, 1000},
		{"   1: 00000000000000000000000000000000:2711 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1", "[::]:10001", Listen, 0},
		{"   2: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000  0 0 9 1", "127.0.0.1:8080", Established, 0},
	} {
		if !littleEndian() {
			t.Skip("the sample lines are a little-endian machine's")
		}
		s, ok := parseSocket(c.line)
		if !ok || s.Local != netip.MustParseAddrPort(c.local) || s.State != c.state || s.UID != c.uid {
			t.Errorf("parseSocket(%q) = %+v, %v; want local %s state %s uid %d", c.line, s, ok, c.local, c.state, c.uid)
		}
	}
	for _, bad := range []string{"", "sl local", "0: zz:1 00:0 0A 0 0 0 x 0 1"} {
		if s, ok := parseSocket(bad); ok {
			t.Errorf("parseSocket(%q) = %+v, want no socket", bad, s)
		}
	}
}

func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

// TestSocketsAndHolders: a listener of this process, a connection to it,
// both ends found, and this process named as their holder.
func TestSocketsAndHolders(t *testing.T) {
	if !Readable() {
		t.Skip("no /proc/net/tcp")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ls, err := Listeners(port)
	if err != nil || len(ls) != 1 || ls[0].UID != os.Getuid() || ls[0].Local.Port() != uint16(port) {
		t.Fatalf("Listeners(%d) = %+v, %v", port, ls, err)
	}
	if got := Holders(ls[0].Inode)[ls[0].Inode]; !slices.Contains(got, os.Getpid()) {
		t.Errorf("Holders of the listener = %v, want this process %d", got, os.Getpid())
	}
	if Holder(ls[0].Inode) != os.Getpid() {
		t.Errorf("Holder = %d, want %d", Holder(ls[0].Inode), os.Getpid())
	}
	if !slices.Contains(SocketInodes(os.Getpid()), ls[0].Inode) {
		t.Errorf("SocketInodes of this process lack the listener's %s", ls[0].Inode)
	}
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	peer, ok, err := Peer(local, remote)
	if err != nil || !ok || peer.Local != remote || peer.Remote != local || peer.UID != os.Getuid() {
		t.Errorf("Peer(%s, %s) = %+v, %v, %v", local, remote, peer, ok, err)
	}
	if _, ok, _ := Peer(local, netip.MustParseAddrPort("127.0.0.1:1")); ok {
		t.Errorf("Peer found a socket for a connection that does not exist")
	}
	if len(Holders()) != 0 || len(Holders("0")) != 0 {
		t.Errorf("Holders of nothing, or of inode 0, found some")
	}
}

func TestProcesses(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.Env = append(os.Environ(), "OCA_PROCFS_TEST=1")
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	st, err := ReadStat(pid)
	if err != nil || st.PPID != os.Getpid() || st.PGID != unix.Getpgrp() || st.Start == 0 || st.Zombie() {
		t.Errorf("ReadStat = %+v, %v", st, err)
	}
	if !slices.Contains(Children(os.Getpid()), pid) {
		t.Errorf("Children of this process lack %d", pid)
	}
	if !slices.Contains(GroupMembers(unix.Getpgrp()), pid) {
		t.Errorf("GroupMembers of this group lack %d", pid)
	}
	if got := Cmdline(pid); !slices.Equal(got, []string{"sleep", "30"}) || CmdlineString(pid) != "sleep 30" {
		t.Errorf("Cmdline = %q, %q", got, CmdlineString(pid))
	}
	if !EnvHas(pid, "OCA_PROCFS_TEST=1") || EnvHas(pid, "OCA_PROCFS_TEST=2") || !slices.Contains(Environ(pid), "OCA_PROCFS_TEST=1") {
		t.Errorf("the environment of %d is not read right", pid)
	}
	if wd, err := Cwd(pid); err != nil || wd != cmd.Dir {
		t.Errorf("Cwd = %q, %v; want %q", wd, err, cmd.Dir)
	}
	if rss, err := RSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if age := Age(pid); age < 0 || age > 2*time.Minute {
		t.Errorf("a process just started is %s old", age)
	}
	if Age(1) < Age(pid) {
		t.Errorf("init (%s) is younger than a process just started (%s)", Age(1), Age(pid))
	}
	if !Alive(pid, st.Start) || Alive(pid, st.Start+1) || !Alive(pid, 0) {
		t.Errorf("Alive does not tell %d by its start time", pid)
	}
	cmd.Process.Kill()
	// Killed but not yet reaped: a zombie is not alive.
	testsys.Eventually(t, 10*time.Second, fmt.Sprintf("%d dead after SIGKILL", pid), func() bool { return !Alive(pid, 0) })
	cmd.Wait()
	if Alive(pid, 0) || StartTime(pid) != 0 || Cmdline(pid) != nil {
		t.Errorf("a reaped process reads as alive")
	}
}

func TestFlockWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if pid := FlockWriter(path); pid != 0 {
		t.Errorf("a free lock is held by %d", pid)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	if pid := FlockWriter(path); pid != 0 {
		t.Errorf("a shared lock is named as a writer's: %d", pid)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if pid := FlockWriter(path); pid != os.Getpid() {
		t.Errorf("FlockWriter = %d, want %d", pid, os.Getpid())
	}
}
