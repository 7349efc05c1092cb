package projectfile

import "testing"

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
