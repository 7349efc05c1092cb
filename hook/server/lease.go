package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const leasesName = "leases"

// AddLease records that the shell pid uses the account: the file
// StateDir/leases/PID holding "PID STARTTIME" (STARTTIME from /proc/PID/stat
// field 22, so a reused pid is not taken for the shell). Idempotent; one
// small file write. The supervisor removes leases whose process is gone.
func AddLease(stateDir string, pid int) error {
	if pid <= 0 {
		return fmt.Errorf("add lease: bad pid %d", pid)
	}
	dir := filepath.Join(stateDir, leasesName)
	data := []byte(strconv.Itoa(pid) + " " + strconv.FormatUint(procStart(pid), 10) + "\n")
	path := filepath.Join(dir, strconv.Itoa(pid))
	err := writeFileAtomic(path, data)
	if err != nil {
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			if merr := os.MkdirAll(dir, 0o700); merr != nil {
				return fmt.Errorf("add lease: %w", merr)
			}
			err = writeFileAtomic(path, data)
		}
	}
	if err != nil {
		return fmt.Errorf("add lease: %w", err)
	}
	return nil
}

// DropLease removes the lease of the shell pid. A missing lease is not an
// error.
func DropLease(stateDir string, pid int) error {
	err := os.Remove(filepath.Join(stateDir, leasesName, strconv.Itoa(pid)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("drop lease: %w", err)
	}
	return nil
}

// liveLeases counts the leases whose process still runs, removing the
// others (the shell exited without leaving the project).
func liveLeases(stateDir string) (int, error) {
	dir := filepath.Join(stateDir, leasesName)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read leases: %w", err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue // a temporary file of AddLease, or a stranger
		}
		if leaseAlive(filepath.Join(dir, name), pid) {
			n++
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove dead lease: %w", err)
		}
	}
	return n, nil
}

// leaseAlive reports whether the lease file at path names a live process.
func leaseAlive(path string, pid int) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	var start uint64
	if len(f) >= 2 {
		start, _ = strconv.ParseUint(f[1], 10, 64)
	}
	return alive(pid, start)
}
