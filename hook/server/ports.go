package server

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// TCP states as written in /proc/net/tcp.
const (
	tcpEstablished = "01"
	tcpListen      = "0A"
)

// socketEntry is one line of /proc/net/tcp or /proc/net/tcp6.
type socketEntry struct {
	local, remote netip.AddrPort // IPv4-mapped addresses of tcp6 unmapped
	state         string
	uid           int
	inode         string // "0" for a socket no process has accepted yet
}

// readSockets parses /proc/net/tcp and /proc/net/tcp6 and returns the
// entries whose local port is port. A missing tcp6 file (no IPv6) is not an
// error.
func readSockets(port int) ([]socketEntry, error) {
	return readSocketTable(func(e socketEntry) bool { return int(e.local.Port()) == port })
}

// readSocketTable parses /proc/net/tcp and /proc/net/tcp6 and returns the
// entries keep accepts. A missing file is not an error (no IPv6; no /proc:
// see ownersReadable).
func readSocketTable(keep func(socketEntry) bool) ([]socketEntry, error) {
	var out []socketEntry
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
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			local, ok1 := parseProcAddr(fields[1])
			remote, ok2 := parseProcAddr(fields[2])
			uid, err := strconv.Atoi(fields[7])
			if !ok1 || !ok2 || err != nil {
				continue
			}
			e := socketEntry{local: local, remote: remote, state: fields[3], uid: uid, inode: fields[9]}
			if keep(e) {
				out = append(out, e)
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

// parseProcAddr parses an address of /proc/net/tcp{,6}: hex bytes of the
// address, in 32-bit words of the host's byte order, ":" and the port in
// hex. IPv4-mapped IPv6 addresses come back as IPv4.
func parseProcAddr(s string) (netip.AddrPort, bool) {
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

// establishedClients counts the established TCP connections to port from
// sockets of the user running oca: the client's side of each connection is
// found (local and remote swapped) and its uid read. The server's side
// would not do: it belongs to the server's user whoever connected, so
// another local user could hold connections open and keep the server from
// its idle stop. A connection whose client side is not found is not
// counted.
func establishedClients(port int) (int, error) {
	socks, err := readSocketTable(func(e socketEntry) bool {
		return e.state == tcpEstablished && (int(e.local.Port()) == port || int(e.remote.Port()) == port)
	})
	if err != nil {
		return 0, err
	}
	clients := map[[2]netip.AddrPort]int{} // client side: {local, remote} -> uid
	for _, s := range socks {
		if int(s.remote.Port()) == port {
			clients[[2]netip.AddrPort{s.local, s.remote}] = s.uid
		}
	}
	me := os.Getuid()
	n := 0
	for _, s := range socks {
		if int(s.local.Port()) != port {
			continue
		}
		if uid, ok := clients[[2]netip.AddrPort{s.remote, s.local}]; ok && uid == me {
			n++
		}
	}
	return n, nil
}

// listenerInodes returns the socket inodes listening on port.
func listenerInodes(port int) ([]string, error) {
	socks, err := readSockets(port)
	if err != nil {
		return nil, err
	}
	var inodes []string
	for _, s := range socks {
		if s.state == tcpListen {
			inodes = append(inodes, s.inode)
		}
	}
	return inodes, nil
}

// portListening reports whether any socket listens on port.
func portListening(port int) (bool, error) {
	inodes, err := listenerInodes(port)
	return len(inodes) > 0, err
}

// portHolder is the process found holding a listening socket.
type portHolder struct {
	pid  int
	pgid int
	cmd  string
	uid  int // -1: unknown
}

func (h portHolder) String() string {
	who := ""
	switch {
	case h.pid == 0:
		who = "an unknown process"
	case h.cmd == "":
		who = fmt.Sprintf("pid %d", h.pid)
	default:
		who = fmt.Sprintf("pid %d (%s)", h.pid, h.cmd)
	}
	if h.uid >= 0 {
		who += " of user " + userName(h.uid)
	}
	return who
}

// userName is the login name of uid, or the number when it has none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// findPortHolder finds the process that listens on port, matching the
// socket inodes of /proc/net/tcp{,6} with the links in /proc/*/fd, and the
// owner of its socket (the uid column). It returns a zero portHolder (uid
// -1) when nothing listens; pid 0 when the holder cannot be seen (another
// user's process, without privileges), whose user is still named.
func findPortHolder(port int) portHolder {
	socks, err := readSockets(port)
	if err != nil {
		return portHolder{uid: -1}
	}
	var listeners []socketEntry
	for _, s := range socks {
		if s.state == tcpListen {
			listeners = append(listeners, s)
		}
	}
	// A stranger's listener first: it is the one worth naming.
	slices.SortStableFunc(listeners, func(a, b socketEntry) int {
		return cmp.Compare(boolInt(a.uid == os.Getuid()), boolInt(b.uid == os.Getuid()))
	})
	for _, l := range listeners {
		h := holderOf(l.inode)
		h.uid = l.uid
		return h
	}
	return portHolder{uid: -1}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// holderOf finds the process with socket inode among its descriptors.
func holderOf(inode string) portHolder {
	h := portHolder{uid: -1}
	if inode == "0" {
		return h
	}
	want := "socket:[" + inode + "]"
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return h
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err == nil && link == want {
				h.pid, h.cmd = pid, procCmdline(pid)
				if st, err := readProcStat(pid); err == nil {
					h.pgid = st.pgid
				}
				return h
			}
		}
	}
	return h
}

// PortInUseError says that the account's port is held by a process that is
// not the account's server.
type PortInUseError struct {
	Port int
	PID  int    // 0 when the holder could not be found
	Cmd  string // the holder's command line, when found
	UID  int    // the owner of the listening socket; -1 when unknown
	User string // its login name (or number); "" when unknown
}

func (e *PortInUseError) Error() string {
	h := portHolder{pid: e.PID, cmd: e.Cmd, uid: -1}
	msg := fmt.Sprintf("port %d is already in use by %s", e.Port, h)
	if e.User != "" {
		msg += " of user " + e.User
	}
	return msg
}

// Foreign reports whether the port's holder is another user.
func (e *PortInUseError) Foreign() bool { return e.UID >= 0 && e.UID != os.Getuid() }

// portInUse is the PortInUseError of port's present holder, its command
// passed through redact.
func portInUse(port int, redact func(string) string) *PortInUseError {
	h := findPortHolder(port)
	e := &PortInUseError{Port: port, PID: h.pid, Cmd: redact(h.cmd), UID: h.uid}
	if h.uid >= 0 {
		e.User = userName(h.uid)
	}
	return e
}

// PortHolder tells whether something listens on 127.0.0.1:port and, where
// it can be seen, which process (pid 0 when it cannot): for `oca doctor`.
func PortHolder(port int) (listening bool, pid int, cmd string) {
	if busy, err := portListening(port); err != nil || !busy {
		return false, 0, ""
	}
	h := findPortHolder(port)
	return true, h.pid, h.cmd
}
