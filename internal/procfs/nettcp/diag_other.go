//go:build !linux

package nettcp

import (
	"errors"
	"net/netip"
)

var errNoDiag = errors.New("sock_diag: not on this system")

func diagDump(states, func(Socket) bool) ([]Socket, error) { return nil, errNoDiag }

func diagPeer(netip.AddrPort, netip.AddrPort) (Socket, bool, error) {
	return Socket{}, false, errNoDiag
}
