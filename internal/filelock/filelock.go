// Package filelock is the one way oca takes a lock between its processes:
// an exclusive flock(2) on a file of its own, made 0600 where absent.
package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive flock on path, waiting for it; unlock releases it.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
