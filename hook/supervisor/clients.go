package supervisor

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
)

// Clients counts the clients attached to the server on 127.0.0.1:port: the
// processes (of this user, whose sockets it can see) with an established
// connection to the port. One OpenCode TUI holds several connections (its
// event stream and requests) and counts once. conns is the number of those
// connections. The connections of supervisor (the server's own supervisor,
// whose health probes and reloads are no client; 0: none) are not counted.
func Clients(port, supervisor int) (procs, conns int, err error) {
	socks, err := nettcp.Connections(func(s nettcp.Socket) bool {
		return int(s.Remote.Port()) == port && s.Inode != "0"
	})
	if err != nil {
		return 0, 0, fmt.Errorf("clients of port %d: %w", port, err)
	}
	inodes := make([]string, len(socks))
	for i, s := range socks {
		inodes[i] = s.Inode
	}
	pids := map[int]bool{}
	for _, holders := range procfs.Holders(inodes...) {
		counted := false
		for _, pid := range holders {
			if pid == supervisor && supervisor > 0 {
				continue
			}
			pids[pid] = true
			counted = true
		}
		if counted {
			conns++
		}
	}
	return len(pids), conns, nil
}

// establishedClients counts the established TCP connections to port from
// sockets of the user running oca: the client's side of each connection is
// found (local and remote swapped) and its uid read. The server's side
// would not do: it belongs to the server's user whoever connected, so
// another local user could hold connections open and keep the server from
// its idle stop. A connection whose client side is not found is not
// counted.
func establishedClients(port int) (int, error) {
	socks, err := nettcp.Connections(func(s nettcp.Socket) bool {
		return int(s.Local.Port()) == port || int(s.Remote.Port()) == port
	})
	if err != nil {
		return 0, err
	}
	clients := map[[2]netip.AddrPort]int{}   // client side: {local, remote} -> uid
	inodes := map[[2]netip.AddrPort]string{} // and its inode
	for _, s := range socks {
		if int(s.Remote.Port()) == port {
			clients[[2]netip.AddrPort{s.Local, s.Remote}] = s.UID
			inodes[[2]netip.AddrPort{s.Local, s.Remote}] = s.Inode
		}
	}
	me := os.Getuid()
	// This process's own connections (health probes, reloads) are no use.
	own := map[string]bool{}
	for _, ino := range procfs.SocketInodes(os.Getpid()) {
		own[ino] = true
	}
	n := 0
	for _, s := range socks {
		if int(s.Local.Port()) != port {
			continue
		}
		if uid, ok := clients[[2]netip.AddrPort{s.Remote, s.Local}]; ok && uid == me && !own[inodes[[2]netip.AddrPort{s.Remote, s.Local}]] {
			n++
		}
	}
	return n, nil
}
