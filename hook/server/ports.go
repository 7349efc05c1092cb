package server

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	localPort int
	state     string
	inode     string
}

// readSockets parses /proc/net/tcp and /proc/net/tcp6 and returns the
// entries whose local port is port. A missing tcp6 file (no IPv6) is not an
// error.
func readSockets(port int) ([]socketEntry, error) {
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
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			p, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil || int(p) != port {
				continue
			}
			out = append(out, socketEntry{localPort: int(p), state: fields[3], inode: fields[9]})
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return out, nil
}

// establishedClients counts the established TCP connections whose local
// port is port: the server's side of every client connection to it.
func establishedClients(port int) (int, error) {
	socks, err := readSockets(port)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range socks {
		if s.state == tcpEstablished {
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
}

func (h portHolder) String() string {
	if h.pid == 0 {
		return "an unknown process"
	}
	if h.cmd == "" {
		return fmt.Sprintf("pid %d", h.pid)
	}
	return fmt.Sprintf("pid %d (%s)", h.pid, h.cmd)
}

// findPortHolder finds the process that listens on port, matching the
// socket inodes of /proc/net/tcp{,6} with the links in /proc/*/fd. It
// returns a zero portHolder when nothing listens or the holder cannot be
// seen (another user's process, without privileges).
func findPortHolder(port int) portHolder {
	inodes, err := listenerInodes(port)
	if err != nil || len(inodes) == 0 {
		return portHolder{}
	}
	want := map[string]bool{}
	for _, in := range inodes {
		if in != "0" {
			want["socket:["+in+"]"] = true
		}
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return portHolder{}
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
			if err == nil && want[link] {
				h := portHolder{pid: pid, cmd: procCmdline(pid)}
				if st, err := readProcStat(pid); err == nil {
					h.pgid = st.pgid
				}
				return h
			}
		}
	}
	return portHolder{}
}

// PortInUseError says that the account's port is held by a process that is
// not the account's server.
type PortInUseError struct {
	Port int
	PID  int    // 0 when the holder could not be found
	Cmd  string // the holder's command line, when found
}

func (e *PortInUseError) Error() string {
	h := portHolder{pid: e.PID, cmd: e.Cmd}
	return fmt.Sprintf("port %d is already in use by %s", e.Port, h)
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
