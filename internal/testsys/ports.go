package testsys

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Ports blocks: PortBlockSize ports each, between the first and the last
// port oca allocates (10001 to 32767), the first ones left to users.
const (
	PortBlockSize  = 50
	firstBlockPort = 12000
	lastBlockPort  = 32000
)

// ClaimPorts claims a block of PortBlockSize ports that no other test
// holds, in this process or in another copy of the suite running at the
// same time, and returns its first port, for OCA_FIRST_PORT: worlds that
// all allocated from 10001 up started servers on each other's ports. The
// claim is a lock (flock) on a file per block under the temporary
// directory, held until release.
func ClaimPorts() (first int, release func(), err error) {
	// The machine's temporary directory, not the world's (Main): the
	// claims are between worlds.
	tmp := os.Getenv(sharedTmpEnv)
	if tmp == "" {
		tmp = os.TempDir()
	}
	dir := filepath.Join(tmp, "oca-test-ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, fmt.Errorf("claiming ports: %w", err)
	}
	blocks := (lastBlockPort - firstBlockPort) / PortBlockSize
	start := rand.IntN(blocks)
	for i := range blocks {
		port := firstBlockPort + (start+i)%blocks*PortBlockSize
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return 0, nil, fmt.Errorf("claiming ports: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		return port, func() { f.Close() }, nil
	}
	return 0, nil, fmt.Errorf("claiming ports: all %d blocks under %s are held", blocks, dir)
}

// Ports claims a block of ports (ClaimPorts) until the test ends and
// returns its first port.
func Ports(t testing.TB) int {
	t.Helper()
	first, release, err := ClaimPorts()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return first
}

// FreePort is a port for one server of a test: the first of a block of
// its own (Ports), below the kernel's ephemeral range, so that no
// connection of another test's can have taken it as its local port, and no
// other test or copy of the suite is handed it. (A port the kernel chose,
// from the ephemeral range, was sometimes in use by the time a server
// bound it.)
func FreePort(t testing.TB) int {
	t.Helper()
	return Ports(t)
}
