package hook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Watch is one thing the shell checks at every prompt, with its test
// builtins alone (no process is started): when any of them tells a change,
// the shell runs `oca export` again.
//
//	Stamp ""   the path must not exist
//	Stamp "."  the path must exist
//	otherwise  the path must have the stamp file's modification time, to the
//	           nanosecond: changed when either is missing, or when
//	           [[ Path -nt Stamp || Path -ot Stamp ]] (zsh's -nt and -ot are
//	           false where a file is missing, so the shells test -e first)
type Watch struct {
	Path  string `json:"path"`
	Stamp string `json:"stamp"`
}

// Absent and Present are the two stamps that test existence only.
const (
	Absent  = ""
	Present = "."
)

// stamper makes stamp files: empty files whose modification time is set to
// that of the watched file. A stamp is named after the watched path and its
// mtime and size, so it never changes once made and every shell watching the
// same version of a file shares it; making a new one removes the path's old
// ones (a shell still holding an old one sees it gone, and asks again).
type stamper struct{ dir string }

// watch returns the Watch for path: a stamp when it exists, Absent otherwise.
func (s stamper) watch(path string) (Watch, error) {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return Watch{Path: path, Stamp: Absent}, nil
	}
	if err != nil {
		return Watch{}, err
	}
	st, err := s.stamp(path, fi)
	if err != nil {
		return Watch{}, err
	}
	return Watch{Path: path, Stamp: st}, nil
}

// current reports whether path, as it is now, has its stamp already: some
// run of oca watched this very version of it. For a home of an account,
// whose stamp is made only after it was brought up to date, that means
// nothing was made in it since.
func (s stamper) current(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	_, name := s.name(path, fi)
	st, err := os.Stat(name)
	return err == nil && st.ModTime().Equal(fi.ModTime())
}

// name is the stamp file of path's version fi, and the prefix that every
// stamp of path has.
func (s stamper) name(path string, fi os.FileInfo) (prefix, name string) {
	ph := sha256.Sum256([]byte(path))
	prefix = hex.EncodeToString(ph[:10])
	vh := sha256.Sum256(fmt.Appendf(nil, "%d/%d", fi.ModTime().UnixNano(), fi.Size()))
	return prefix, filepath.Join(s.dir, prefix+"-"+hex.EncodeToString(vh[:6]))
}

func (s stamper) stamp(path string, fi os.FileInfo) (string, error) {
	prefix, name := s.name(path, fi)
	if st, err := os.Stat(name); err == nil && st.ModTime().Equal(fi.ModTime()) {
		return name, nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return "", fmt.Errorf("stamps: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(s.dir, prefix+"-*"))
	for _, o := range old {
		if o != name {
			os.Remove(o)
		}
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("stamps: %w", err)
	}
	f.Close()
	if err := os.Chtimes(name, time.Time{}, fi.ModTime()); err != nil {
		return "", fmt.Errorf("stamps: %w", err)
	}
	return name, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func presence(p string) Watch {
	if exists(p) {
		return Watch{Path: p, Stamp: Present}
	}
	return Watch{Path: p, Stamp: Absent}
}
