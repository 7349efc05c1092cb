// Package nettcp reads Linux's table of TCP sockets, /proc/net/tcp and
// tcp6: each socket's addresses, state, owner and inode (which process
// holds an inode is procfs.Holders). It is procfs's, apart so that what
// links procfs for processes (the hook's oca-export, through statedir)
// does not link net/netip, whose initialisation each start would pay.
// Where /proc is missing (not Linux), Readable is false and the functions
// find nothing.
package nettcp

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// State is a TCP state as /proc/net/tcp writes it (two hex digits).
type State string

// The TCP states oca looks at.
const (
	Established State = "01"
	TimeWait    State = "06"
	Listen      State = "0A"
)

// Socket is one line of /proc/net/tcp or /proc/net/tcp6.
type Socket struct {
	Local, Remote netip.AddrPort // IPv4-mapped addresses of tcp6 come back as IPv4
	State         State
	UID           int    // the socket's owner
	Inode         string // "0" for a socket no process has accepted yet
}

// Readable reports whether this system lists TCP sockets with their owners
// (Linux: /proc/net/tcp).
func Readable() bool {
	_, err := os.Stat("/proc/net/tcp")
	return err == nil
}

// Sockets parses /proc/net/tcp and /proc/net/tcp6 and returns the entries
// keep accepts (all of them for a nil keep). A missing file is not an error
// (no IPv6; no /proc: see Readable).
func Sockets(keep func(Socket) bool) ([]Socket, error) {
	var out []Socket
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read sockets: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			if s, ok := parseSocket(sc.Text()); ok && (keep == nil || keep(s)) {
				out = append(out, s)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return out, nil
}

// SocketsOn returns the sockets whose local port is port.
func SocketsOn(port int) ([]Socket, error) {
	return Sockets(func(s Socket) bool { return int(s.Local.Port()) == port })
}

// Listeners returns the sockets listening on port.
func Listeners(port int) ([]Socket, error) {
	return Sockets(func(s Socket) bool { return s.State == Listen && int(s.Local.Port()) == port })
}

// parseSocket parses one line of /proc/net/tcp{,6}:
// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
func parseSocket(line string) (Socket, bool) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return Socket{}, false
	}
	local, ok1 := parseAddr(f[1])
	remote, ok2 := parseAddr(f[2])
	uid, err := strconv.Atoi(f[7])
	if !ok1 || !ok2 || err != nil {
		return Socket{}, false
	}
	return Socket{Local: local, Remote: remote, State: State(f[3]), UID: uid, Inode: f[9]}, true
}

// parseAddr parses an address of /proc/net/tcp{,6}: hex bytes of the
// address, in 32-bit words of the host's byte order, ":" and the port in
// hex. IPv4-mapped IPv6 addresses come back as IPv4.
func parseAddr(s string) (netip.AddrPort, bool) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), true
}

// Peer finds the socket at the other end of a TCP connection on this host:
// for a connection from local to remote, the one whose local address is
// remote and whose remote address is local, in any state but TIME_WAIT.
func Peer(local, remote netip.AddrPort) (Socket, bool, error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	socks, err := Sockets(func(s Socket) bool { return s.Local == remote && s.Remote == local && s.State != TimeWait })
	if err != nil || len(socks) == 0 {
		return Socket{}, false, err
	}
	return socks[0], true, nil
}
