// Package nettcp reads Linux's table of TCP sockets: each socket's
// addresses, state, owner and inode (which process holds an inode is
// procfs.Holders). It asks the kernel through sock_diag, a netlink
// query that names the states and, for one connection, the exact
// addresses it wants, and falls back to /proc/net/tcp and tcp6 where
// sock_diag is missing (a sandbox without it) or cannot say: reading those
// files walks the kernel's whole table of connections, which costs
// milliseconds on a machine with much memory, where sock_diag answers a
// question about listeners or about one connection in microseconds.
//
// It is procfs's, apart so that what links procfs for processes (the
// hook's oca-export, through statedir) does not link net/netip, whose
// initialisation each start would pay. Where neither is there (not Linux),
// Readable is false and the functions find nothing.
package nettcp

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
)

// State is a TCP state, numbered as Linux numbers them
// (include/net/tcp_states.h); /proc/net/tcp writes it in hex.
type State uint8

// The TCP states oca looks at.
const (
	Established State = 1
	SynRecv     State = 3
	TimeWait    State = 6
	Listen      State = 10
)

// String is the state as /proc/net/tcp writes it.
func (s State) String() string { return fmt.Sprintf("%02X", uint8(s)) }

// states is a set of states, as sock_diag takes it: bit n for state n.
type states uint32

func (set states) has(s State) bool { return s < 32 && set&(1<<s) != 0 }

// Socket is one of the kernel's TCP sockets.
type Socket struct {
	Local, Remote netip.AddrPort // IPv4-mapped addresses of IPv6 sockets come back as IPv4
	State         State
	UID           int    // the socket's owner
	Inode         string // "0" for a socket no process has accepted yet
}

// Readable reports whether this system lists TCP sockets with their owners
// (Linux: sock_diag, or /proc/net/tcp).
func Readable() bool {
	if _, err := os.Stat("/proc/net/tcp"); err == nil {
		return true
	}
	_, err := diagDump(1<<Listen, nil)
	return err == nil
}

// Listeners returns the sockets listening on port.
func Listeners(port int) ([]Socket, error) {
	return list(1<<Listen, func(s Socket) bool { return int(s.Local.Port()) == port })
}

// Connections returns the sockets of established connections that keep
// accepts (all of them for a nil keep).
func Connections(keep func(Socket) bool) ([]Socket, error) {
	return list(1<<Established, keep)
}

// list returns the sockets in one of the states that keep accepts, from
// sock_diag or else /proc.
func list(set states, keep func(Socket) bool) ([]Socket, error) {
	socks, err := diagDump(set, keep)
	if err == nil {
		return socks, nil
	}
	socks, perr := procSockets(func(s Socket) bool { return set.has(s.State) && (keep == nil || keep(s)) })
	if perr != nil {
		return nil, errors.Join(err, perr)
	}
	return socks, nil
}

// Peer finds the socket at the other end of a TCP connection on this host:
// for a connection from local to remote, the one whose local address is
// remote and whose remote address is local, in any state but TIME_WAIT.
func Peer(local, remote netip.AddrPort) (Socket, bool, error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	s, ok, err := diagPeer(local, remote)
	// sock_diag gives a connection not yet accepted (SYN_RECV, a request
	// socket) no owner; /proc names its listener's. Ask /proc then.
	if err == nil && !(ok && s.State == SynRecv) {
		return s, ok, nil
	}
	return procPeer(local, remote)
}

// procPeer is Peer from /proc/net/tcp and tcp6.
func procPeer(local, remote netip.AddrPort) (Socket, bool, error) {
	socks, err := procSockets(func(s Socket) bool { return s.Local == remote && s.Remote == local && s.State != TimeWait })
	if err != nil || len(socks) == 0 {
		return Socket{}, false, err
	}
	return socks[0], true, nil
}
