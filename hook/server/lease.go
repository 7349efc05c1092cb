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

// AddLease records that the shell pid uses the account while its working
// directory is within root (a project's directory, symlinks resolved; ""
// for anywhere): the file StateDir/leases/PID holding "PID STARTTIME ROOT"
// (STARTTIME from /proc/PID/stat field 22, so a reused pid is not taken for
// the shell). Idempotent; one small file write. The supervisor removes
// leases whose process is gone or has left root: a shell leaves a project
// without running oca, so the lease is how the supervisor sees it go.
func AddLease(stateDir string, pid int, root string) error {
	if pid <= 0 {
		return fmt.Errorf("add lease: bad pid %d", pid)
	}
	if strings.ContainsAny(root, "\n") {
		return fmt.Errorf("add lease: bad root %q", root)
	}
	dir := filepath.Join(stateDir, leasesName)
	data := []byte(strconv.Itoa(pid) + " " + strconv.FormatUint(procStart(pid), 10) + " " + root + "\n")
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

// leaseAlive reports whether the lease file at path names a live process
// whose working directory is still within the lease's root.
func leaseAlive(path string, pid int) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	f := strings.SplitN(strings.TrimSuffix(string(b), "\n"), " ", 3)
	var start uint64
	if len(f) >= 2 {
		start, _ = strconv.ParseUint(f[1], 10, 64)
	}
	if !alive(pid, start) {
		return false
	}
	if len(f) < 3 || f[2] == "" {
		return true
	}
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return true // cannot tell: keep it while the process lives
	}
	root := f[2]
	return cwd == root || root == "/" || strings.HasPrefix(cwd, root+"/")
}
