package nettcp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// TestMain runs the tests in a world of their own (testsys.Main): what
// they start ends with them.
func TestMain(m *testing.M) { os.Exit(testsys.Main(m)) }

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
	if got := procfs.Holders(ls[0].Inode)[ls[0].Inode]; !slices.Contains(got, os.Getpid()) {
		t.Errorf("Holders of the listener = %v, want this process %d", got, os.Getpid())
	}
	if procfs.Holder(ls[0].Inode) != os.Getpid() {
		t.Errorf("Holder = %d, want %d", procfs.Holder(ls[0].Inode), os.Getpid())
	}
	if !slices.Contains(procfs.SocketInodes(os.Getpid()), ls[0].Inode) {
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
	if len(procfs.Holders()) != 0 || len(procfs.Holders("0")) != 0 {
		t.Errorf("Holders of nothing, or of inode 0, found some")
	}
}
