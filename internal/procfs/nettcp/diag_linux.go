package nettcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
)

// sock_diag (linux/sock_diag.h, linux/inet_diag.h): a request is a
// netlink header and an inet_diag_req_v2; each socket comes back as an
// inet_diag_msg. Addresses are in network byte order, four 32-bit words
// (IPv4 in the first); ports too. The rest is in the host's byte order.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	netlinkSockDiag  = 4  // NETLINK_SOCK_DIAG
	reqLen           = 56 // sizeof(struct inet_diag_req_v2)
	msgLen           = 72 // sizeof(struct inet_diag_msg)
	// sockid, within both: sport, dport, src[4], dst[4], if, cookie[2].
	sockIDLen = 48
)

// diagDump asks sock_diag for the TCP sockets, IPv4 and IPv6, in the
// states of set, and returns those keep accepts (all for a nil keep).
func diagDump(set states, keep func(Socket) bool) ([]Socket, error) {
	var out []Socket
	for _, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
		req := diagRequest(family, set, netip.AddrPort{}, netip.AddrPort{})
		err := diagQuery(req, syscall.NLM_F_DUMP, func(s Socket) {
			if keep == nil || keep(s) {
				out = append(out, s)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// diagPeer asks sock_diag for the one socket whose local address is remote
// and whose remote address is local: the kernel looks it up as it would
// for a packet from local to remote, in its table of connections (and
// else its listeners, which are not it).
func diagPeer(local, remote netip.AddrPort) (Socket, bool, error) {
	family := uint8(syscall.AF_INET)
	if !local.Addr().Is4() || !remote.Addr().Is4() {
		family = syscall.AF_INET6
	}
	var found Socket
	ok := false
	err := diagQuery(diagRequest(family, 0, remote, local), 0, func(s Socket) {
		if s.Local == remote && s.Remote == local && s.State != TimeWait && s.State != Listen {
			found, ok = s, true
		}
	})
	if errors.Is(err, syscall.ENOENT) {
		return Socket{}, false, nil
	}
	return found, ok, err
}

// diagRequest is a request for TCP sockets of family in the states of set;
// the exact lookup of a socket gives its local address src and its remote
// address dst.
func diagRequest(family uint8, set states, src, dst netip.AddrPort) []byte {
	b := make([]byte, reqLen)
	b[0] = family
	b[1] = syscall.IPPROTO_TCP
	binary.NativeEndian.PutUint32(b[4:], uint32(set))
	id := b[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	putAddr(id[4:20], family, src.Addr())
	putAddr(id[20:36], family, dst.Addr())
	// No cookie (INET_DIAG_NOCOOKIE): look the socket up by its addresses.
	binary.NativeEndian.PutUint64(id[40:], ^uint64(0))
	return b
}

// putAddr writes addr as sock_diag takes it for family: IPv4 in the
// first word, IPv6 (an IPv4 address mapped) in all four.
func putAddr(b []byte, family uint8, addr netip.Addr) {
	if !addr.IsValid() {
		return
	}
	if family == syscall.AF_INET {
		a := addr.As4()
		copy(b, a[:])
		return
	}
	a := addr.As16()
	copy(b, a[:])
}

// diagQuery sends req (with flags, beside NLM_F_REQUEST) on a netlink
// socket of its own and passes each socket of the answer to each. An
// error the kernel answers with comes back as its errno.
func diagQuery(req []byte, flags uint16, each func(Socket)) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer syscall.Close(fd)
	const seq = 1
	msg := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(req))
	binary.NativeEndian.PutUint32(msg[0:], uint32(syscall.NLMSG_HDRLEN+len(req)))
	binary.NativeEndian.PutUint16(msg[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(msg[6:], syscall.NLM_F_REQUEST|flags)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	msg = append(msg, req...)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	// The kernel fills each read with up to 32 KiB of answers.
	buf := make([]byte, 64<<10)
	for {
		n, _, rflags, _, err := syscall.Recvmsg(fd, buf, nil, 0)
		if err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		if rflags&syscall.MSG_TRUNC != 0 {
			return errors.New("sock_diag: answer truncated")
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return errors.New("sock_diag: short error")
				}
				if errno := -int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
					return fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
				}
				return nil
			case sockDiagByFamily:
				s, ok := parseDiag(m.Data)
				if !ok {
					return errors.New("sock_diag: short answer")
				}
				each(s)
			}
		}
		if flags&syscall.NLM_F_DUMP == 0 {
			// An exact lookup answers with one message.
			return nil
		}
	}
}

// parseDiag reads an inet_diag_msg.
func parseDiag(b []byte) (Socket, bool) {
	if len(b) < msgLen {
		return Socket{}, false
	}
	family, id := b[0], b[4:4+sockIDLen]
	addr := func(w []byte) netip.Addr {
		if family == syscall.AF_INET {
			return netip.AddrFrom4([4]byte(w[:4]))
		}
		return netip.AddrFrom16([16]byte(w[:16])).Unmap()
	}
	return Socket{
		Local:  netip.AddrPortFrom(addr(id[4:20]), binary.BigEndian.Uint16(id[0:])),
		Remote: netip.AddrPortFrom(addr(id[20:36]), binary.BigEndian.Uint16(id[2:])),
		State:  State(b[1]),
		UID:    int(binary.NativeEndian.Uint32(b[64:])),
		Inode:  strconv.FormatUint(uint64(binary.NativeEndian.Uint32(b[68:])), 10),
	}, true
}
