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

// procSockets parses /proc/net/tcp and /proc/net/tcp6 and returns the entries
// keep accepts (all of them for a nil keep). A missing file is not an error
// (no IPv6; no /proc: see Readable).
func procSockets(keep func(Socket) bool) ([]Socket, error) {
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
	state, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return Socket{}, false
	}
	return Socket{Local: local, Remote: remote, State: State(state), UID: uid, Inode: f[9]}, true
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
