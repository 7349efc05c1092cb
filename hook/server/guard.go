package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The account's password goes only to a socket of the user running oca.
// Another local user can bind an account's port before its server does (or
// in the moment between a crash and the restart) and answer every request
// as a healthy OpenCode would; oca must not hand it the password. So every
// request that carries the password is sent over a connection made by
// dialGuarded, which, once connected and before a byte is sent, finds the
// server's side of that very connection in /proc/net/tcp{,6} and checks its
// owner (and, for the supervisor, that the listener is its own OpenCode's).
// The check is of the connection the request then uses: a listener that
// changes between check and send cannot slip in.

// ErrNotListening says that nothing listens on the port.
var ErrNotListening = errors.New("nothing listens there")

// tcpTimeWait is the state of a socket closed on its side.
const tcpTimeWait = "06"

// ownersReadable reports whether this system lists TCP sockets with their
// owners (Linux: /proc/net/tcp). Where it does not, listeners are not
// checked; docs/design.md says what that leaves open.
func ownersReadable() bool {
	_, err := os.Stat("/proc/net/tcp")
	return err == nil
}

// listenerCheck decides whether the server's side of a connection to port
// (peer) may receive the password: nil, or why not.
type listenerCheck func(port int, peer socketEntry) error

// ownUser is the check for every client: the socket that accepted belongs
// to the user running oca, or to root.
func ownUser(port int, peer socketEntry) error {
	if trustedOwner(peer.uid) {
		return nil
	}
	return foreignHolder(port, peer.uid)
}

// trustedOwner tells whether a socket of uid may receive the user's
// password: the user's own, or root's, who can read the password file
// anyway (Docker's proxy for a port that oca compose publishes is root's).
// The supervisor asks more: its own OpenCode's socket (childCheck).
func trustedOwner(uid int) bool { return uid == os.Getuid() || uid == 0 }

// foreignHolder is the PortInUseError for port held by uid.
func foreignHolder(port, uid int) *PortInUseError {
	e := portInUse(port, func(s string) string { return s })
	if e.UID != uid {
		// The holder named is not the one that answered: name the user
		// that did, without a process.
		e.PID, e.Cmd = 0, ""
	}
	e.UID, e.User = uid, userName(uid)
	return e
}

// dialGuarded connects to 127.0.0.1:port and returns the connection only
// when the socket at its other end passes check.
func dialGuarded(ctx context.Context, port int, check listenerCheck) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	if !ownersReadable() {
		return conn, nil
	}
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	peer, err := serverSide(ctx, local, remote)
	if err == nil {
		err = check(port, peer)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// serverSide finds the socket at the other end of the connection from
// local to remote: the one whose local address is remote and whose remote
// address is local. The kernel lists it by the time connect returns on the
// loopback (as SYN_RECV at worst, which carries the listener's owner too);
// it is looked for a few more times all the same.
func serverSide(ctx context.Context, local, remote netip.AddrPort) (socketEntry, error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	for try := 0; ; try++ {
		socks, err := readSocketTable(func(e socketEntry) bool { return e.local == remote && e.remote == local })
		if err != nil {
			return socketEntry{}, err
		}
		for _, s := range socks {
			if s.state != tcpTimeWait {
				return s, nil
			}
		}
		if try == 20 || ctx.Err() != nil {
			return socketEntry{}, fmt.Errorf("connection to port %d: the server's side is not in /proc/net/tcp (closed at once?)", remote.Port())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// acceptsLoopback reports whether a socket listening on addr takes
// connections to 127.0.0.1.
func acceptsLoopback(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || addr.IsUnspecified()
}

// loopbackListeners lists the sockets listening on port that take
// connections to 127.0.0.1.
func loopbackListeners(port int) ([]socketEntry, error) {
	socks, err := readSockets(port)
	if err != nil {
		return nil, err
	}
	var out []socketEntry
	for _, s := range socks {
		if s.state == tcpListen && acceptsLoopback(s.local.Addr()) {
			out = append(out, s)
		}
	}
	return out, nil
}

// VerifyListener checks, without connecting, that what listens on
// 127.0.0.1:port belongs to the user running oca: it returns nil when it
// does, an error wrapping ErrNotListening when nothing listens, and a
// *PortInUseError naming the holder's pid, command and user when a socket
// of another user listens there. Where the owner cannot be read (no
// /proc/net/tcp) it returns nil. Clients that connect by themselves
// (`opencode attach`) call it right before they are given the password.
func VerifyListener(port int) error {
	if !ownersReadable() {
		return nil
	}
	ls, err := loopbackListeners(port)
	if err != nil {
		return fmt.Errorf("check the listener on port %d: %w", port, err)
	}
	if len(ls) == 0 {
		return fmt.Errorf("port %d: %w", port, ErrNotListening)
	}
	for _, l := range ls {
		if !trustedOwner(l.uid) {
			return foreignHolder(port, l.uid)
		}
	}
	return nil
}

// socketInodes returns the socket inodes among the descriptors of pids.
func socketInodes(pids []int) map[string]bool {
	out := map[string]bool{}
	for _, pid := range pids {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err != nil || len(link) < len("socket:[]") || link[:8] != "socket:[" {
				continue
			}
			out[link[8:len(link)-1]] = true
		}
	}
	return out
}

// childCheck is the supervisor's check: the socket that accepted is the
// user's, and every socket listening on the port for 127.0.0.1 is one of
// the process group pgid (its own OpenCode's).
func childCheck(pgid int) listenerCheck {
	return func(port int, peer socketEntry) error {
		if err := ownUser(port, peer); err != nil {
			return err
		}
		ls, err := loopbackListeners(port)
		if err != nil {
			return err
		}
		mine := socketInodes(groupMembers(pgid))
		for _, l := range ls {
			if !mine[l.inode] {
				e := portInUse(port, func(s string) string { return s })
				if h := holderOf(l.inode); h.pid != 0 || l.uid != e.UID {
					e.PID, e.Cmd, e.UID, e.User = h.pid, h.cmd, l.uid, userName(l.uid)
				}
				return e
			}
		}
		return nil
	}
}

// DialGuarded connects to 127.0.0.1:port as oca's own requests do: it
// returns the connection only when the socket that accepted it is the
// user's own (or root's), and a *PortInUseError naming the holder
// otherwise. oca's local proxy (hook/shim/proxy) dials every connection of
// an OpenCode client so.
func DialGuarded(ctx context.Context, port int) (net.Conn, error) {
	return dialGuarded(ctx, port, ownUser)
}

// PeerUID is the owner of the socket at the other end of conn, a TCP
// connection within this machine (found in /proc/net/tcp{,6}); known is
// false where the system does not list sockets' owners.
func PeerUID(ctx context.Context, conn net.Conn) (uid int, known bool, err error) {
	la, ok1 := conn.LocalAddr().(*net.TCPAddr)
	ra, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	switch {
	case !ownersReadable():
		return -1, false, nil
	case !ok1 || !ok2:
		return -1, true, errors.New("not a TCP connection")
	}
	peer, err := serverSide(ctx, la.AddrPort(), ra.AddrPort())
	if err != nil {
		return -1, true, err
	}
	return peer.uid, true, nil
}
