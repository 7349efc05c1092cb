// Package regularfile is oca's one way to read a file that someone may have
// replaced with something else: a FIFO must not hang the prompt until a
// writer comes, a device must not fill memory, a terminal must not become
// the controlling one, and a file of any size is read only up to a limit.
//
// It imports nothing of oca's, so every package may use it.
package regularfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Follow says whether Read follows a symbolic link at the path itself.
type Follow bool

const (
	FollowLinks Follow = true  // a link to a regular file is read
	NoLinks     Follow = false // a link is refused as not a regular file
)

// NotRegularError is the error of a path that is not a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode // what it is instead
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Kind(e.Mode))
}

// TooLargeError is the error of a regular file longer than the limit.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes", e.Path, e.Limit)
}

// Refused tells whether err is Read's refusal of what the path holds (not
// a regular file, or too large), as opposed to a failure to open or read.
// Its message is the one oca shows for such a file.
func Refused(err error) bool {
	var notRegular *NotRegularError
	var tooLarge *TooLargeError
	return errors.As(err, &notRegular) || errors.As(err, &tooLarge)
}

// Read reads the regular file at path, at most limit bytes of it, and
// returns what fstat said of the file it opened. It opens without waiting
// (O_NONBLOCK changes nothing for a regular file) and without taking a
// terminal (O_NOCTTY), then reads only if the opened file is a regular one.
// An error of opening is os.OpenFile's, as it is: a missing file is one
// errors.Is(err, fs.ErrNotExist) recognises.
func Read(path string, limit int64, follow Follow) ([]byte, fs.FileInfo, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY
	if follow == NoLinks {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if follow == NoLinks && errors.Is(err, syscall.ELOOP) {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	// Into a buffer of the size fstat said, with room for ReadFrom to see
	// the end (it grows one only for a file that grows while it is read):
	// the hook reads files at every prompt that enters, where fresh memory
	// first touched is most of what it costs.
	var buf bytes.Buffer
	buf.Grow(int(min(fi.Size(), limit)) + bytes.MinRead)
	n, err := buf.ReadFrom(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if n > limit {
		return nil, nil, &TooLargeError{Path: path, Limit: limit}
	}
	return buf.Bytes(), fi, nil
}

// Kind says what a file that is not a regular file is, for a message.
func Kind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	case t&fs.ModeSocket != 0:
		return "a socket"
	}
	return "something else"
}
