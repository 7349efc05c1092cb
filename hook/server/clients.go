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

// Clients counts the clients attached to the server on 127.0.0.1:port: the
// processes (of this user, whose sockets it can see) with an established
// connection to the port. One OpenCode TUI holds several connections (its
// event stream and requests) and counts once. conns is the number of those
// connections.
func Clients(port int) (procs, conns int, err error) {
	inodes := map[string]bool{}
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("clients of port %d: %w", port, err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st ... inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != tcpEstablished {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[2], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port && fields[9] != "0" {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("clients of port %d: %w", port, err)
		}
	}
	if len(inodes) == 0 {
		return 0, 0, nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, fmt.Errorf("clients of port %d: %w", port, err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		mine := 0
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && inodes[link] {
				mine++
			}
		}
		if mine > 0 {
			procs++
			conns += mine
		}
	}
	return procs, conns, nil
}
