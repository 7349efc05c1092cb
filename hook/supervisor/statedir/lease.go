package statedir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/safepath"
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
	return strconv.Itoa(pid) + "-" + strconv.FormatUint(procfs.StartTime(pid), 10)
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

// AddLease records that the shell pid uses the account while its working
// directory is within root (a project's directory, symlinks resolved; ""
// for anywhere): StateDir/leases/PID-STARTTIME, an empty file that is a
// hard link of the root's anchor, leases/.root-HASH (which holds the root's
// path; leases/.anchor for ""), made on first use. Idempotent, and cheap:
// one link(2) once the anchor exists. The supervisor removes leases whose
// process is gone or has left its root: a shell leaves a project without
// running oca, so that is how the supervisor sees it go.
func AddLease(stateDir string, pid int, root string) error {
	if pid <= 0 {
		return fmt.Errorf("add lease: bad pid %d", pid)
	}
	if strings.Contains(root, "\n") {
		return fmt.Errorf("add lease: bad root %q", root)
	}
	dir := filepath.Join(stateDir, leasesName)
	anchor := filepath.Join(dir, anchorName(root))
	path := filepath.Join(dir, leaseName(pid))
	err := os.Link(anchor, path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := makeAnchor(dir, anchor, root); err != nil {
			return fmt.Errorf("add lease: %w", err)
		}
		err = os.Link(anchor, path)
	}
	if errors.Is(err, fs.ErrExist) {
		if sameFile(anchor, path) {
			return nil
		}
		// The shell moved to another project of the account: relink.
		tmp := filepath.Join(dir, ".tmp-"+leaseName(pid))
		os.Remove(tmp)
		if err = os.Link(anchor, tmp); err == nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil {
		return fmt.Errorf("add lease: %w", err)
	}
	return nil
}

// anchorName is the anchor file of a root.
func anchorName(root string) string {
	if root == "" {
		return leaseAnchor
	}
	sum := sha256.Sum256([]byte(root))
	return ".root-" + hex.EncodeToString(sum[:8])
}

// makeAnchor creates the anchor holding root, atomically and once: the
// content goes to a temporary file that is then linked to the anchor's
// name. link(2) never replaces a file, so when two shells enter at once the
// second finds the first one's anchor (EEXIST) and links its lease to that
// one; a rename would replace it and leave the first one's leases linked
// to a file that is no longer the anchor.
func makeAnchor(dir, anchor, root string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-anchor-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if root != "" {
		_, err = f.WriteString(root + "\n")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, anchor); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
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

// LiveLeases counts the leases whose process still runs with its working
// directory in the lease's root, removing the others (the shell left the
// project, or exited without leaving it).
func LiveLeases(stateDir string) (int, error) {
	dir := filepath.Join(stateDir, leasesName)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read leases: %w", err)
	}
	type anchor struct {
		fi   fs.FileInfo
		root string
	}
	var anchors []anchor
	for _, e := range ents {
		name := e.Name()
		if name != leaseAnchor && !strings.HasPrefix(name, ".root-") {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		root := ""
		if name != leaseAnchor {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			root = strings.TrimSuffix(string(b), "\n")
		}
		anchors = append(anchors, anchor{fi, root})
	}
	n := 0
	for _, e := range ents {
		pid, start, ok := parseLease(e.Name())
		if !ok {
			continue // an anchor, a temporary link, or a stranger
		}
		root, known := "", false
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			for _, a := range anchors {
				if os.SameFile(fi, a.fi) {
					root, known = a.root, true
					break
				}
			}
		}
		if procfs.Alive(pid, start) && (!known || inRoot(pid, root)) {
			n++
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove dead lease: %w", err)
		}
	}
	return n, nil
}

// inRoot reports whether the working directory of pid is root or below it
// ("" is everywhere). When it cannot tell, it says yes.
func inRoot(pid int, root string) bool {
	if root == "" || root == "/" {
		return true
	}
	cwd, err := procfs.Cwd(pid)
	if err != nil {
		return true
	}
	return safepath.Within(cwd, root)
}

// LeasesDir is the directory of the leases of the account whose state
// directory is stateDir.
func LeasesDir(stateDir string) string { return filepath.Join(stateDir, leasesName) }
