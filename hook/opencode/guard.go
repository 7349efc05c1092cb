package opencode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
)

// The account's password goes only to a socket of the user running oca.
// Another local user can bind an account's port before its server does (or
// in the moment between a crash and the restart) and answer every request
// as a healthy OpenCode would; oca must not hand it the password. So every
// request that carries the password is sent over a connection made by
// Dial, which, once connected and before a byte is sent, finds the server's
// side of that very connection (nettcp.Peer) and checks its owner
// (and, for the supervisor, that the listener is its own OpenCode's). The
// check is of the connection the request then uses: a listener that changes
// between check and send cannot slip in.

// ErrNotListening says that nothing listens on the port.
var ErrNotListening = errors.New("nothing listens there")

// Check decides whether the server's side of a connection to port may
// receive the password: nil, or why not.
type Check func(port int, server nettcp.Socket) error

// OwnUser is the check for every client: the socket that accepted belongs
// to the user running oca, or to root.
func OwnUser(port int, server nettcp.Socket) error {
	if TrustedOwner(server.UID) {
		return nil
	}
	return foreignHolder(port, server.UID)
}

// TrustedOwner tells whether a socket of uid may receive the user's
// password: the user's own, or root's, who can read the password file
// anyway (Docker's proxy for a port that oca compose publishes is root's).
// The supervisor asks more: its own OpenCode's socket (OwnGroup).
func TrustedOwner(uid int) bool { return uid == os.Getuid() || uid == 0 }

// OwnGroup is the supervisor's check: the socket that accepted is the
// user's, and every socket listening on the port for 127.0.0.1 is one of
// the process group pgid (its own OpenCode's).
func OwnGroup(pgid int) Check {
	return func(port int, server nettcp.Socket) error {
		if err := OwnUser(port, server); err != nil {
			return err
		}
		ls, err := loopbackListeners(port)
		if err != nil {
			return err
		}
		mine := map[string]bool{}
		for _, pid := range procfs.GroupMembers(pgid) {
			for _, ino := range procfs.SocketInodes(pid) {
				mine[ino] = true
			}
		}
		for _, l := range ls {
			if !mine[l.Inode] {
				e := PortInUse(port, nil)
				if pid := procfs.Holder(l.Inode); pid != 0 || l.UID != e.UID {
					e.PID, e.Cmd, e.UID, e.User = pid, procfs.CmdlineString(pid), l.UID, UserName(l.UID)
				}
				return e
			}
		}
		return nil
	}
}

// foreignHolder is the PortInUseError for port held by uid.
func foreignHolder(port, uid int) *PortInUseError {
	e := PortInUse(port, nil)
	if e.UID != uid {
		// The holder named is not the one that answered: name the user
		// that did, without a process.
		e.PID, e.Cmd = 0, ""
	}
	e.UID, e.User = uid, UserName(uid)
	return e
}

// Dial connects to 127.0.0.1:port and returns the connection only when the
// socket at its other end passes check. Where the owners of sockets cannot
// be read (nettcp.Readable is false) nothing is checked.
func Dial(ctx context.Context, port int, check Check) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	if !nettcp.Readable() {
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
// local to remote. The kernel lists it by the time connect returns on the
// loopback (as SYN_RECV at worst, which carries the listener's owner too);
// it is looked for a few more times all the same.
func serverSide(ctx context.Context, local, remote netip.AddrPort) (nettcp.Socket, error) {
	for try := 0; ; try++ {
		s, ok, err := nettcp.Peer(local, remote)
		if err != nil {
			return nettcp.Socket{}, err
		}
		if ok {
			return s, nil
		}
		if try == 20 || ctx.Err() != nil {
			return nettcp.Socket{}, fmt.Errorf("connection to port %d: the kernel does not list the server's side (closed at once?)", remote.Port())
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
func loopbackListeners(port int) ([]nettcp.Socket, error) {
	ls, err := nettcp.Listeners(port)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ls, func(s nettcp.Socket) bool { return !acceptsLoopback(s.Local.Addr()) }), nil
}

// VerifyListener checks, without connecting, that what listens on
// 127.0.0.1:port belongs to the user running oca: it returns nil when it
// does, an error wrapping ErrNotListening when nothing listens, and a
// *PortInUseError naming the holder's pid, command and user when a socket
// of another user listens there. Where the owner cannot be read
// (nettcp.Readable is false) it returns nil.
func VerifyListener(port int) error {
	if !nettcp.Readable() {
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
		if !TrustedOwner(l.UID) {
			return foreignHolder(port, l.UID)
		}
	}
	return nil
}

// OwnListenersGone reports whether no socket of the user's listens on port
// for 127.0.0.1 (another user's does not count: nothing of oca's could
// make it go). It is false when the sockets cannot be read.
func OwnListenersGone(port int) bool {
	ls, err := loopbackListeners(port)
	if err != nil {
		return false
	}
	for _, l := range ls {
		if l.UID == os.Getuid() {
			return false
		}
	}
	return true
}

// PeerUID is the owner of the socket at the other end of conn, a TCP
// connection within this machine (nettcp.Peer); known is
// false where the system does not list sockets' owners. oca's local proxy
// (hook/shim/proxy) refuses a client whose socket is not the user's.
func PeerUID(ctx context.Context, conn net.Conn) (uid int, known bool, err error) {
	la, ok1 := conn.LocalAddr().(*net.TCPAddr)
	ra, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	switch {
	case !nettcp.Readable():
		return -1, false, nil
	case !ok1 || !ok2:
		return -1, true, errors.New("not a TCP connection")
	}
	peer, err := serverSide(ctx, la.AddrPort(), ra.AddrPort())
	if err != nil {
		return -1, true, err
	}
	return peer.UID, true, nil
}
