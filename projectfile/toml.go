//go:build !oca_notoml

package projectfile

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// HasTOML tells whether this build parses TOML: every build but
// oca-export's (the build tag oca_notoml, see notoml.go).
const HasTOML = true

// DecodeTOML decodes data, the TOML document at path, into v strictly: a
// key that v has no field for, or one in another case than oca's, is an
// error; open lists keys (dotted) whose sub-keys are free-form, a "*" in
// one standing for a name. Every error is an *Error with the line and key
// where it can tell.
func DecodeTOML(path string, data []byte, v any, open []string) error {
	md, err := toml.Decode(string(data), v)
	if err != nil {
		return decodeError(path, data, err)
	}
	return unknown(path, data, md, open)
}

// EncodeTOML encodes v as TOML, its tables unindented.
func EncodeTOML(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := toml.NewEncoder(&buf)
	e.Indent = ""
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding TOML: %w", err)
	}
	return buf.Bytes(), nil
}

// typeErr reads the errors BurntSushi/toml returns for a value of the
// wrong type, which carry the position in their text only:
// `toml: line N (last key "KEY"): MESSAGE`, MESSAGE on one line. (No
// regexp: the hook's binary links this package, and would initialise the
// regexp package at every start.)
func typeErr(s string) (line int, key, msg string, ok bool) {
	rest, ok := strings.CutPrefix(s, "toml: line ")
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if !ok || digits == 0 {
		return 0, "", "", false
	}
	line, err := strconv.Atoi(rest[:digits])
	rest, ok = strings.CutPrefix(rest[digits:], ` (last key "`)
	end := strings.IndexByte(rest, '"')
	if err != nil || !ok || end < 0 {
		return 0, "", "", false
	}
	key = rest[:end]
	msg, ok = strings.CutPrefix(rest[end:], `"): `)
	if !ok || strings.Contains(msg, "\n") {
		return 0, "", "", false
	}
	return line, key, msg, true
}

// KeyString writes key (one string per level) as TOML writes a dotted key.
func KeyString(key ...string) string { return toml.Key(key).String() }

// decodeError turns an error from toml.Decode of the file at path into an
// *Error with the line and key it names.
func decodeError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{Path: path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	if line, key, msg, ok := typeErr(err.Error()); ok {
		msg = strings.TrimPrefix(msg, "incompatible types: ")
		return &Error{Path: path, Line: line, Key: key, Msg: "wrong type: " + msg}
	}
	return &Error{Path: path, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// unknown returns an *Error for the first key of the document that decoding
// left undecoded, or written in another case than oca's, or nil. known
// lists keys (dotted) whose sub-keys are free-form and so never unknown; a
// "*" in one stands for a name (an account's), whose case its own check
// judges. (The decoder matches keys whatever their case: with `port` and
// `Port` both in a table, which one won changed from run to run.)
func unknown(path string, data []byte, md toml.MetaData, known []string) error {
	// under tells whether k is a free-form key: below one of known.
	under := func(k toml.Key) bool {
		for _, prefix := range known {
			if p := strings.Split(prefix, "."); len(k) > len(p) && matches(p, k[:len(p)]) {
				return true
			}
		}
		return false
	}
	for _, k := range md.Undecoded() {
		if !under(k) {
			return &Error{Path: path, Line: KeyLine(data, k...), Key: k.String(), Msg: "unknown key"}
		}
	}
	for _, k := range md.Keys() {
		for i, e := range k {
			if under(k[:i+1]) {
				break
			}
			if low := strings.ToLower(e); e != low && !named(known, k[:i+1]) {
				line := KeyLine(data, k[:i+1]...)
				if line == 0 {
					line = KeyLine(data, k...) // a table's: a key in it
				}
				return &Error{Path: path, Line: line, Key: k[:i+1].String(), Msg: "oca's keys are lower case: write " + low}
			}
		}
	}
	return nil
}

// named tells whether the last element of k stands where a pattern of
// known has a "*": a name, not a key of oca's.
func named(known []string, k toml.Key) bool {
	for _, prefix := range known {
		p := strings.Split(prefix, ".")
		if len(p) < len(k) || p[len(k)-1] != "*" {
			continue
		}
		if matches(p[:len(k)-1], k[:len(k)-1]) {
			return true
		}
	}
	return false
}

// matches tells whether key k is pattern p, "*" matching any element.
func matches(p []string, k toml.Key) bool {
	for j := range p {
		if p[j] != "*" && p[j] != k[j] {
			return false
		}
	}
	return true
}

// KeyLine returns the line on which key (one string per level) is defined in
// the TOML document data, or 0 when it cannot tell.
func KeyLine(data []byte, key ...string) int {
	if len(key) == 0 {
		return 0
	}
	var level map[string]toml.Primitive
	md, err := toml.Decode(string(data), &level)
	if err != nil {
		return 0
	}
	for i, k := range key {
		p, ok := level[k]
		if !ok {
			return 0
		}
		if i == len(key)-1 {
			var pe toml.ParseError
			if errors.As(md.PrimitiveDecode(p, lineProbe{}), &pe) {
				return pe.Position.Line
			}
			return 0
		}
		var next map[string]toml.Primitive
		if md.PrimitiveDecode(p, &next) != nil {
			return 0
		}
		level = next
	}
	return 0
}

// lineProbe fails on purpose, so that the decoder reports where its value is.
type lineProbe struct{}

func (lineProbe) UnmarshalTOML(any) error { return errProbe }

var errProbe = fmt.Errorf("probe")
