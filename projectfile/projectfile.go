// Package projectfile reads .opencode-account.toml: it finds the nearest one
// upward from a directory, parses it strictly, and decides whether the user
// trusts it (see trust.go).
//
// A project file only names an account; what the account is lives in the
// user's own accounts file, so a cloned repository cannot point credentials
// at a path of its choosing.
package projectfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/internal/regularfile"
)

// ErrNoTOML is what a build that parses no TOML (oca-export's, see
// notoml.go) returns where a file must be parsed: its caller hands the
// run to oca, which does.
var ErrNoTOML = errors.New("this binary parses no TOML (built with the tag oca_notoml): oca does")

// Name is the file name searched for.
const Name = ".opencode-account.toml"

// MaxSize bounds how much of a project file is read: a project file is a
// couple of lines, and a huge one is an error, not a reason to use memory.
const MaxSize = 64 << 10

// ValidAccountName reports whether name is an account name oca accepts:
// ^[a-z0-9][a-z0-9_.-]{0,63}$. It is spelled out rather than a package-level
// regexp because compiling that one (the {0,63} unrolls) cost 0.3 ms at
// every start of the binary, that is at every run of the hook.
func ValidAccountName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// CheckAccountName returns an error that says what an account name may be.
func CheckAccountName(name string) error {
	if ValidAccountName(name) {
		return nil
	}
	return fmt.Errorf("bad account name %q: use 1-64 of a-z 0-9 _ . - starting with a letter or digit", cut(name))
}

// File is a parsed project file.
type File struct {
	Path      string // absolute path of the file
	Account   string
	Autostart bool
}

type fileTOML struct {
	Account   *string `toml:"account"`
	Autostart *bool   `toml:"autostart"`
}

// Find returns the path of the nearest project file at or above dir, or ""
// when there is none up to the root. dir must be absolute; it is not
// resolved, so the search follows the path the user sees.
func Find(dir string) string {
	dir = filepath.Clean(dir)
	for {
		p := filepath.Join(dir, Name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Read reads a project file, refusing one larger than MaxSize.
func Read(path string) ([]byte, error) {
	data, _, err := ReadStat(path)
	return data, err
}

// ReadStat reads a project file as it opens it, and returns what fstat said
// of it before the first byte was read: the file is opened without waiting
// (a FIFO put in its place must not hang the prompt until a writer comes),
// and only a regular file is read, at most MaxSize + 1 bytes of it. Find
// has seen a regular file, but the name may be another file by now.
func ReadStat(path string) ([]byte, os.FileInfo, error) {
	data, fi, err := regularfile.Read(path, MaxSize, regularfile.FollowLinks)
	if regularfile.Refused(err) {
		return nil, nil, &Error{Path: path, Err: err}
	}
	return data, fi, err
}

// Parse parses the content of the project file at path. Every error is an
// *Error naming the file and, where there is one, the line and key.
func Parse(path string, data []byte) (*File, error) {
	if err := checkShape(path, data); err != nil {
		return nil, err
	}
	var raw fileTOML
	if err := DecodeTOML(path, data, &raw, nil); err != nil {
		return nil, err
	}
	f := &File{Path: path, Autostart: true}
	if raw.Account == nil {
		return nil, &Error{Path: path, Key: "account", Msg: "required key is missing (account = \"NAME\")"}
	}
	if err := CheckAccountName(*raw.Account); err != nil {
		return nil, &Error{Path: path, Line: KeyLine(data, "account"), Key: "account", Msg: err.Error()}
	}
	f.Account = *raw.Account
	if raw.Autostart != nil {
		f.Autostart = *raw.Autostart
	}
	return f, nil
}

// maxStructure bounds the dots, brackets and braces outside strings and
// comments (dotted keys, tables, arrays, inline tables) of a project file,
// which needs none: account = "NAME" and autostart = true|false. The TOML
// parser's time and memory grow much faster than the nesting: a 64 KiB file
// of dotted keys or nested inline tables took minutes and gigabytes, at
// the prompt of whoever entered the repository that carried it, before any
// question of trust.
const maxStructure = 32

// checkShape refuses a file with more than maxStructure of them, before it
// is parsed.
func checkShape(path string, data []byte) error {
	n, line := 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			delim := data[i : i+1]
			if i+2 < len(data) && data[i+1] == c && data[i+2] == c {
				delim = data[i : i+3]
			}
			j := i + len(delim)
			for j < len(data) && !bytes.HasPrefix(data[j:], delim) {
				switch {
				case c == '"' && data[j] == '\\':
					j++
				case data[j] == '\n':
					line++
				}
				j++
			}
			i = j + len(delim) - 1
		case '.', '[', '{':
			if n++; n > maxStructure {
				return &Error{Path: path, Line: line, Msg: "too many dotted keys, tables or arrays for a project file, which holds account = \"NAME\" and autostart = true|false"}
			}
		}
	}
	return nil
}

// Error is a problem in a TOML file, located as precisely as known.
type Error struct {
	Path string
	Line int    // 0 when unknown
	Key  string // dotted key, "" when none
	Msg  string
	Err  error // with no Msg, the error that says it all (regularfile's, which names Path)
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	loc := e.Path
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: key %s: %s", loc, cut(e.Key), e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// cut shortens what a file said (a key, a name) for a message: a hostile
// file must not fill the terminal.
func cut(s string) string {
	if len(s) <= 80 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "..."
}
