// Package safepath is oca's one rule for a path that no other user may
// change: the path and every directory from it up belong to the user
// running oca (or root) and may not be written by group or others, as
// sshd's strict modes ask of ~/.ssh. Whoever may write a directory on the
// way may rename what lies below it and put something of theirs in its
// place, so a directory high up counts as much as the path's own.
//
// The trust of project files by trusted_paths, data homes and config dirs
// all judge ownership with it. It imports nothing of oca's, so every
// package may use it.
package safepath

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Rule says how strict Check is beyond the common rule.
type Rule struct {
	// Top is the highest directory checked (path lies within it); ""
	// checks every directory up to /.
	Top string
	// Mine asks that path itself belong to the user running oca: root's
	// will not do (a directory OpenCode writes to and reads code from).
	// Directories above it may be root's either way.
	Mine bool
	// Sticky lets a directory above path be writable by others when root
	// owns it and it has the sticky bit, as /tmp (mode 1777): no one but
	// root and the owner of an entry there may rename or remove it.
	Sticky bool
	// Links lets a symbolic link above path (or path itself) stand,
	// judged by its owner, and then checks the path it leads to as well
	// (a ~/.config linked to a dotfiles repository). Without Links, path
	// itself may be a link, judged by its owner, and a link above it is a
	// fault (the caller resolved the path: one there now is a change
	// under way).
	Links bool
	// Missing lets path, and directories above it, not exist yet (oca is
	// about to make them): the checks start at the nearest that exists,
	// which is judged as a directory above path.
	Missing bool
}

// Problem is what is wrong with the path at fault.
type Problem int

const (
	NotMine  Problem = iota + 1 // another user owns it (or root, where the rule wants the user's own)
	Writable                    // group or others may write to it
	Link                        // a symbolic link above the path, where the rule allows none
	Unknown                     // it could not be looked at (Err says why)
)

// Fault is the first path, from the one checked upward, that breaks the
// rule, and how.
type Fault struct {
	Checked string      // the path Check was asked about (resolved, where a link was followed)
	Path    string      // the path at fault: Checked, or a directory above it
	Problem Problem     // what is wrong with it
	UID     int         // its owner
	Mode    fs.FileMode // its type and permission bits
	Err     error       // for Unknown: the failed lstat
}

// Above reports whether the fault is in a directory above the path checked.
func (f *Fault) Above() bool { return f.Path != f.Checked }

// Owner names the owner of the path at fault: "alice (uid 1001)", or "uid
// 1001" when the user database does not know the number.
func (f *Fault) Owner() string { return userName(f.UID) }

// Octal is the path's mode as chmod writes it: 0777, 1777 with the sticky
// bit, 2775 with setgid.
func (f *Fault) Octal() string { return fmt.Sprintf("%04o", octal(f.Mode)) }

func (f *Fault) Error() string {
	switch f.Problem {
	case NotMine:
		return fmt.Sprintf("%s belongs to %s, not to you (uid %d)", f.Path, f.Owner(), os.Getuid())
	case Writable:
		return fmt.Sprintf("%s may be written by others (mode %s)", f.Path, f.Octal())
	case Link:
		return fmt.Sprintf("%s is a symbolic link", f.Path)
	}
	return f.Err.Error()
}

// Owned judges one file already looked at (fi from stat, lstat or fstat)
// by its owner alone: it belongs to the user running oca. It is the owner
// check Check makes of a path under Mine, for a caller that holds the file
// open (and so judges what it opened, not what the name leads to now).
func Owned(path string, fi fs.FileInfo) error {
	uid, ok := owner(fi)
	if !ok || uid != os.Getuid() {
		return &Fault{Checked: path, Path: path, Problem: NotMine, UID: uid, Mode: fi.Mode()}
	}
	return nil
}

// Check returns nil when path and every directory from it up to r.Top
// (or /) belong to the user running oca or to root and may not be written
// by group or others, with the exceptions r allows; else the first *Fault
// from path upward. path is absolute. It costs one lstat a level (and,
// with r.Links, the same again for the resolved path where a link was
// met).
func Check(path string, r Rule) error {
	path = filepath.Clean(path)
	me := os.Getuid()
	linked := false
	for p := path; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		switch {
		case err != nil && r.Missing && os.IsNotExist(err):
			// Not made yet: judged by what it will be made in.
		case err != nil:
			return &Fault{Checked: path, Path: p, Problem: Unknown, Err: err}
		default:
			if f := judge(path, p, fi, me, r); f != nil {
				return f
			}
			linked = linked || fi.Mode()&fs.ModeSymlink != 0 && r.Links
		}
		if p == r.Top || p == filepath.Dir(p) {
			break
		}
	}
	if !linked {
		return nil
	}
	real, err := resolve(path, r.Missing)
	if err != nil {
		return &Fault{Checked: path, Path: path, Problem: Unknown, Err: err}
	}
	if real == path {
		return nil
	}
	r.Links = false // resolved: a link in it now is a change under way
	return Check(real, r)
}

// resolve is path with every link resolved; with missing, the part of it
// that does not exist yet is kept as it is, below its nearest existing
// directory resolved.
func resolve(path string, missing bool) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil || !missing || !os.IsNotExist(err) {
		return real, err
	}
	dir := filepath.Dir(path)
	if dir == path {
		return "", err
	}
	rdir, err := resolve(dir, missing)
	if err != nil {
		return "", err
	}
	return filepath.Join(rdir, filepath.Base(path)), nil
}

// judge applies the rule to p, which is path or a directory above it.
func judge(path, p string, fi fs.FileInfo, me int, r Rule) *Fault {
	uid, ok := owner(fi)
	fault := func(pr Problem) *Fault {
		return &Fault{Checked: path, Path: p, Problem: pr, UID: uid, Mode: fi.Mode()}
	}
	self := p == path
	if !ok || uid != me && (uid != 0 || self && r.Mine) {
		return fault(NotMine)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		// A link's own mode means nothing: no one can change where it
		// leads, only replace it, which its directory decides.
		if !self && !r.Links {
			return fault(Link)
		}
	case fi.Mode().Perm()&0o022 != 0:
		if !self && r.Sticky && uid == 0 && fi.IsDir() && fi.Mode()&fs.ModeSticky != 0 {
			return nil
		}
		return fault(Writable)
	}
	return nil
}

func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}

func octal(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		o |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		o |= 0o1000
	}
	return o
}

func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil {
		return u.Username + " (uid " + id + ")"
	}
	return "uid " + id
}

// Within reports whether path is dir or lies below it, as strings: callers
// give clean absolute paths (resolved where links matter to them). The
// root directory holds every path; a trailing slash on dir is ignored;
// "/ab" is not within "/a". It is the one answer to that question in oca.
func Within(path, dir string) bool {
	dir = strings.TrimRight(dir, "/")
	if dir == "" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
