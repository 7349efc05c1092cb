package nettcp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// TestMain runs the tests in a world of their own (testsys.Main): what
// they start ends with them.
func TestMain(m *testing.M) {
	if os.Getenv(listenAsEnv) != "" {
		os.Exit(listenAs())
	}
	os.Exit(testsys.Main(m))
}

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

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Established: "01", SynRecv: "03", TimeWait: "06", Listen: "0A"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q as /proc/net/tcp writes it", uint8(s), s.String(), want)
		}
	}
}

// TestDiagAgreesWithProc: what sock_diag says of listeners (IPv4, IPv6,
// both), of connections to them (an IPv4 one to the dual-stack listener
// is an IPv6 socket with mapped addresses on the server's side) and of
// each connection's other end is what /proc/net/tcp and tcp6 say.
func TestDiagAgreesWithProc(t *testing.T) {
	needDiag(t)
	var ports []int
	var conns [][2]net.Conn // client, server
	listen := func(network, addr, dial string) {
		ln, err := net.Listen(network, addr)
		if err != nil {
			if network == "tcp6" {
				t.Logf("no IPv6: %v", err)
				return
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		port := ln.Addr().(*net.TCPAddr).Port
		ports = append(ports, port)
		c, err := net.Dial(strings.Split(dial, "|")[0], net.JoinHostPort(strings.Split(dial, "|")[1], strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		conns = append(conns, [2]net.Conn{c, a})
	}
	listen("tcp4", "127.0.0.1:0", "tcp4|127.0.0.1")
	listen("tcp6", "[::1]:0", "tcp6|::1")
	listen("tcp", ":0", "tcp4|127.0.0.1")

	mine := func(s Socket) bool {
		return slices.Contains(ports, int(s.Local.Port())) || slices.Contains(ports, int(s.Remote.Port()))
	}
	for _, c := range []struct {
		what string
		set  states
	}{{"listeners", 1 << Listen}, {"connections", 1 << Established}} {
		diag, err := diagDump(c.set, mine)
		if err != nil {
			t.Fatal(err)
		}
		proc, err := procSockets(func(s Socket) bool { return c.set.has(s.State) && mine(s) })
		if err != nil {
			t.Fatal(err)
		}
		if len(diag) == 0 || !sameSockets(diag, proc) {
			t.Errorf("%s: sock_diag says\n%v\n/proc says\n%v", c.what, diag, proc)
		}
	}
	for _, port := range ports {
		if ls, err := Listeners(port); err != nil || len(ls) != 1 || ls[0].UID != os.Getuid() {
			t.Errorf("Listeners(%d) = %v, %v", port, ls, err)
		}
	}
	for _, c := range conns {
		for _, end := range c {
			local, remote := end.LocalAddr().(*net.TCPAddr).AddrPort(), end.RemoteAddr().(*net.TCPAddr).AddrPort()
			d, dok, derr := diagPeer(unmap(local), unmap(remote))
			p, pok, perr := procPeer(unmap(local), unmap(remote))
			if derr != nil || perr != nil || !dok || !pok || d != p || d.Local != unmap(remote) {
				t.Errorf("the other end of %s -> %s: sock_diag %v, %v, %v; /proc %v, %v, %v", local, remote, d, dok, derr, p, pok, perr)
			}
		}
	}
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

func sameSockets(a, b []Socket) bool {
	key := func(s Socket) string { return fmt.Sprint(s) }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// needDiag skips (fails under CI=true) where the kernel has no sock_diag.
func needDiag(t *testing.T) {
	t.Helper()
	if _, err := diagDump(1<<Listen, nil); err != nil {
		testsys.SkipOrFail(t, "no sock_diag: "+err.Error())
	}
}

// listenAsEnv makes the test binary listenAs (run as another user).
const listenAsEnv = "NETTCP_TEST_LISTEN"

// listenAs listens on two ports of 127.0.0.1, the second with
// TCP_DEFER_ACCEPT (a connection's server side stays a request socket,
// SYN_RECV, until the client sends something), prints both ports, and
// waits for the end of its stdin.
func listenAs() int {
	plain, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, 60)
		})
		return errors.Join(err, serr)
	}}
	deferred, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(plain.Addr().(*net.TCPAddr).Port, deferred.Addr().(*net.TCPAddr).Port)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// TestOtherUsersSockets: another user's listener is that user's in
// sock_diag and in /proc alike; and the server's side of a connection to
// it that the kernel holds as a request socket (SYN_RECV: the listener
// defers accepting until data comes), to which sock_diag gives no owner
// (0: root's, whom oca trusts), is the listener's user's in Peer, which
// asks /proc for it.
func TestOtherUsersSockets(t *testing.T) {
	needDiag(t)
	u := testsys.AddUser(t)
	bin := filepath.Join(u.Dir(t), "nettcp.test")
	testsys.CopyExecutable(t, os.Args[0], bin)
	cmd := u.Command(bin)
	cmd.Env = append(os.Environ(), listenAsEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var plain, deferred int
	if _, err := fmt.Fscan(out, &plain, &deferred); err != nil {
		t.Fatalf("the other user's listener: %v", err)
	}
	for _, port := range []int{plain, deferred} {
		diag, err := diagDump(1<<Listen, func(s Socket) bool { return int(s.Local.Port()) == port })
		if err != nil || len(diag) != 1 || diag[0].UID != u.UID {
			t.Errorf("sock_diag: the listener on %d: %v, %v; want one of uid %d", port, diag, err, u.UID)
		}
		if ls, err := Listeners(port); err != nil || len(ls) != 1 || ls[0].UID != u.UID {
			t.Errorf("Listeners(%d) = %v, %v; want one of uid %d", port, ls, err, u.UID)
		}
	}
	c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(deferred))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local, remote := c.LocalAddr().(*net.TCPAddr).AddrPort(), c.RemoteAddr().(*net.TCPAddr).AddrPort()
	// What the case is about: sock_diag's answer.
	if d, ok, err := diagPeer(local, remote); err != nil || !ok || d.State != SynRecv || d.UID != 0 {
		t.Fatalf("sock_diag: the server's side %v, %v, %v; want a request socket (SYN_RECV) of no owner: the case this test is for did not happen", d, ok, err)
	}
	if p, ok, err := Peer(local, remote); err != nil || !ok || p.UID != u.UID || p.Local != remote {
		t.Errorf("Peer(%s, %s) = %+v, %v, %v; want the server's side, of uid %d", local, remote, p, ok, err, u.UID)
	}
}

// BenchmarkSockets: what oca asks of the kernel's sockets, by sock_diag
// and by /proc/net/tcp{,6}, in the same run: the listeners on a port (the
// guard, status, the holder of a port), the other end of one connection
// (every connection oca makes to a server), and the established
// connections (a supervisor's idle count, every 5 s).
func BenchmarkSockets(b *testing.B) {
	if _, err := diagDump(1<<Listen, nil); err != nil {
		b.Skip("no sock_diag:", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	local, remote := c.LocalAddr().(*net.TCPAddr).AddrPort(), c.RemoteAddr().(*net.TCPAddr).AddrPort()
	onPort := func(s Socket) bool { return int(s.Local.Port()) == port }
	for _, bc := range []struct {
		name string
		f    func() (bool, error)
	}{
		{"listeners/sock_diag", func() (bool, error) { s, err := diagDump(1<<Listen, onPort); return len(s) == 1, err }},
		{"listeners/proc", func() (bool, error) {
			s, err := procSockets(func(s Socket) bool { return s.State == Listen && onPort(s) })
			return len(s) == 1, err
		}},
		{"peer/sock_diag", func() (bool, error) { _, ok, err := diagPeer(local, remote); return ok, err }},
		{"peer/proc", func() (bool, error) { _, ok, err := procPeer(local, remote); return ok, err }},
		{"connections/sock_diag", func() (bool, error) { s, err := diagDump(1<<Established, onPort); return len(s) == 1, err }},
		{"connections/proc", func() (bool, error) {
			s, err := procSockets(func(s Socket) bool { return s.State == Established && onPort(s) })
			return len(s) == 1, err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := bc.f(); !ok || err != nil {
					b.Fatalf("found nothing: %v", err)
				}
			}
		})
	}
}
