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

const (
	leasesName = "leases"
	// leaseAnchor is the empty file every lease is a hard link of: on
	// some disks allocating an inode costs a millisecond, a link a few
	// microseconds, and the hook adds a lease on every entry into a project.
	leaseAnchor = ".anchor"
)

// leaseName is the lease file of pid: "PID-STARTTIME", STARTTIME from
// /proc/PID/stat field 22, so a reused pid is not taken for the shell.
func leaseName(pid int) string {
	return strconv.Itoa(pid) + "-" + strconv.FormatUint(procStart(pid), 10)
}

// parseLease splits a lease file name; ok is false for other names.
func parseLease(name string) (pid int, start uint64, ok bool) {
	p, s, _ := strings.Cut(name, "-")
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 {
		return 0, 0, false
	}
	if s != "" {
		if start, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return pid, start, true
}

// AddLease records that the shell pid uses the account:
// StateDir/leases/PID-STARTTIME, an empty file (a hard link of
// leases/.anchor, made on first use). Idempotent, and cheap: one link(2)
// once the anchor exists. The supervisor removes leases whose process is
// gone.
func AddLease(stateDir string, pid int) error {
	if pid <= 0 {
		return fmt.Errorf("add lease: bad pid %d", pid)
	}
	dir := filepath.Join(stateDir, leasesName)
	anchor := filepath.Join(dir, leaseAnchor)
	path := filepath.Join(dir, leaseName(pid))
	err := os.Link(anchor, path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("add lease: %w", err)
		}
		f, ferr := os.OpenFile(anchor, os.O_WRONLY|os.O_CREATE, 0o600)
		if ferr != nil {
			return fmt.Errorf("add lease: %w", ferr)
		}
		f.Close()
		err = os.Link(anchor, path)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("add lease: %w", err)
	}
	return nil
}

// DropLease removes the lease of the shell pid. A missing lease is not an
// error.
func DropLease(stateDir string, pid int) error {
	dir := filepath.Join(stateDir, leasesName)
	err := os.Remove(filepath.Join(dir, leaseName(pid)))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		if err != nil {
			return fmt.Errorf("drop lease: %w", err)
		}
		return nil
	}
	// The start time could not be read the same way: remove by pid.
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("drop lease: %w", err)
	}
	for _, e := range ents {
		if p, _, ok := parseLease(e.Name()); ok && p == pid {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("drop lease: %w", err)
			}
		}
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
		pid, start, ok := parseLease(e.Name())
		if !ok {
			continue // the anchor, or a stranger
		}
		if alive(pid, start) {
			n++
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove dead lease: %w", err)
		}
	}
	return n, nil
}
