package projectfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/internal/atomicfile"
)

// Verdict is whether a project file may apply.
type Verdict int

const (
	Untrusted Verdict = iota // neither allowed nor under a trusted path: ask the user
	Allowed                  // `oca allow` recorded this path with this content
	Trusted                  // under one of the account's trusted_paths
	Denied                   // `oca deny` blocked this path
)

func (v Verdict) String() string {
	return [...]string{"untrusted", "allowed", "trusted", "denied"}[v]
}

// Trust is the store of allow and deny records, as direnv keeps them: an
// allow record is named by sha256(real path + "\n" + content), so any edit
// of the file revokes it; a deny record is named by sha256(real path), so
// no edit lifts it. The records hold the real path, for listing.
type Trust struct {
	Dir string // e.g. $XDG_STATE_HOME/oca/trust
}

// RealPath resolves symlinks in path and makes it absolute: trust is keyed
// by where a file really is, never by the name it was reached through.
func RealPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	return real, nil
}

func digest(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AllowRecord is the file whose existence allows content at realPath.
func (t Trust) AllowRecord(realPath string, content []byte) string {
	return filepath.Join(t.Dir, "allow", digest([]byte(realPath+"\n"), content))
}

// DenyRecord is the file whose existence denies realPath.
func (t Trust) DenyRecord(realPath string) string {
	return filepath.Join(t.Dir, "deny", digest([]byte(realPath)))
}

// Check decides whether the file at realPath with this content applies.
// trustedPaths are absolute directories (the account's trusted_paths, "~"
// already expanded); they trust a file below them unless it was denied or
// sits in a directory that others may write to.
func (t Trust) Check(realPath string, content []byte, trustedPaths []string) Verdict {
	if exists(t.DenyRecord(realPath)) {
		return Denied
	}
	if exists(t.AllowRecord(realPath, content)) {
		return Allowed
	}
	if TrustedBy(realPath, trustedPaths) {
		return Trusted
	}
	return Untrusted
}

// TrustedBy reports whether the file at realPath is trusted for where it is:
// below one of trustedPaths, with neither the file nor any directory from
// its own up to the trusted one writable by others. It does not look at
// allow or deny records.
func TrustedBy(realPath string, trustedPaths []string) bool {
	for _, tp := range trustedPaths {
		if rtp, err := RealPath(tp); err == nil && within(realPath, rtp) && !othersMayWrite(realPath, rtp) {
			return true
		}
	}
	return false
}

// Allow records realPath with content as allowed, lifting any deny.
func (t Trust) Allow(realPath string, content []byte) error {
	if err := removeIfExists(t.DenyRecord(realPath)); err != nil {
		return err
	}
	return writeRecord(t.AllowRecord(realPath, content), realPath)
}

// Deny blocks realPath whatever its content, and drops the allow record of
// the content given (nil: none).
func (t Trust) Deny(realPath string, content []byte) error {
	if content != nil {
		if err := removeIfExists(t.AllowRecord(realPath, content)); err != nil {
			return err
		}
	}
	return writeRecord(t.DenyRecord(realPath), realPath)
}

func writeRecord(path, realPath string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if err := atomicfile.Write(path, []byte(realPath+"\n"), 0o600); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// othersMayWrite reports whether the file at path, or any directory from
// its own up to root, may be written by users other than its owner (group or
// world writable), as in /tmp: such a file is never trusted merely for where
// it is. A directory higher up counts as much as the file's own, since who
// may write it may rename the project directory and put another in its place.
func othersMayWrite(path, root string) bool {
	for p := path; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o022 != 0 {
			return true
		}
		if p == root || p == filepath.Dir(p) {
			return false
		}
	}
}
