//go:build !oca_notoml

package projectfile

import (
	"errors"
	"strings"
	"testing"
)

// TestTypeErr: typeErr reads what the regexp it replaced read, and refuses
// what it refused.
func TestTypeErr(t *testing.T) {
	for _, tc := range []struct {
		in       string
		line     int
		key, msg string
		ok       bool
	}{
		{`toml: line 3 (last key "a.b"): incompatible types: TOML value has type int64; destination has type string`, 3, "a.b", "incompatible types: TOML value has type int64; destination has type string", true},
		{`toml: line 12 (last key ""): x`, 12, "", "x", true},
		{`toml: line 1 (last key "k"): `, 1, "k", "", true},
		{`toml: line 1 (last key "k"): two` + "\n" + `lines`, 0, "", "", false},
		{`toml: line x (last key "k"): m`, 0, "", "", false},
		{`toml: line 1 (last key "k): m`, 0, "", "", false},
		{`toml: line 1: m`, 0, "", "", false},
		{`toml: incomplete number`, 0, "", "", false},
		{`oops: line 1 (last key "k"): m`, 0, "", "", false},
	} {
		line, key, msg, ok := typeErr(tc.in)
		if line != tc.line || key != tc.key || msg != tc.msg || ok != tc.ok {
			t.Errorf("typeErr(%q) = %d, %q, %q, %v; want %d, %q, %q, %v", tc.in, line, key, msg, ok, tc.line, tc.key, tc.msg, tc.ok)
		}
	}
}

func TestKeyLine(t *testing.T) {
	doc := []byte(`opencode = "x"

[accounts.work]
port = 10001
data_home = "~/w"

[accounts.b]
env = { A = "1" }
trusted_paths = [
  "~/a",
]

[accounts.c.env]
X = "2"
`)
	for _, tc := range []struct {
		key  []string
		line int
	}{
		{[]string{"opencode"}, 1},
		{[]string{"accounts", "work"}, 3},
		{[]string{"accounts", "work", "port"}, 4},
		{[]string{"accounts", "work", "data_home"}, 5},
		{[]string{"accounts", "b", "env"}, 8},
		{[]string{"accounts", "b", "trusted_paths"}, 9},
		{[]string{"accounts", "c", "env"}, 13},
		{[]string{"accounts", "c", "env", "X"}, 14},
		{[]string{"accounts", "nope"}, 0},
		{[]string{"accounts", "work", "nope"}, 0},
		{[]string{"opencode", "deeper"}, 0},
		{nil, 0},
	} {
		if got := KeyLine(doc, tc.key...); got != tc.line {
			t.Errorf("KeyLine(%v) = %d, want %d", tc.key, got, tc.line)
		}
	}
	if got := KeyLine([]byte("a = "), "a"); got != 0 {
		t.Errorf("KeyLine of a broken document = %d, want 0", got)
	}
}

func TestDecodeError(t *testing.T) {
	// Not an error of the toml package at all: kept as the message.
	err := decodeError("/f", nil, errors.New("toml: something odd"))
	var pe *Error
	if !errors.As(err, &pe) || pe.Path != "/f" || pe.Line != 0 || pe.Msg != "something odd" {
		t.Fatalf("decodeError = %#v", err)
	}
	err = decodeError("/f", nil, errors.New(`toml: line 7 (last key "a.b"): incompatible types: TOML value has type int64; destination has type string`))
	if !errors.As(err, &pe) || pe.Line != 7 || pe.Key != "a.b" || !strings.HasPrefix(pe.Msg, "wrong type: TOML value") {
		t.Fatalf("decodeError = %#v", err)
	}
}
