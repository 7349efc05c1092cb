//go:build oca_notoml

package projectfile

import "strings"

// This build parses no TOML (the build tag oca_notoml): it is oca-export's,
// the binary the shell's hook starts at each prompt that enters a project.
// A TOML parser linked into it costs that prompt more than a millisecond
// (its package initialisation reads the local time zone, and decoding a
// file touches a good part of its code and of reflect), so oca-export
// judges a project file by its trust record (Trust.Judge's recall) and the
// accounts file by the record oca left of it (account.Load), and what
// needs a parse it hands to oca whole, on ErrNoTOML.

// HasTOML tells whether this build parses TOML: not this one.
const HasTOML = false

// DecodeTOML returns ErrNoTOML: this build parses no TOML.
func DecodeTOML(path string, data []byte, v any, open []string) error { return ErrNoTOML }

// EncodeTOML returns ErrNoTOML: this build writes no TOML.
func EncodeTOML(v any) ([]byte, error) { return nil, ErrNoTOML }

// KeyLine returns 0: this build cannot tell lines of TOML.
func KeyLine(data []byte, key ...string) int { return 0 }

// KeyString joins key with dots: this build cannot quote TOML keys.
func KeyString(key ...string) string { return strings.Join(key, ".") }
