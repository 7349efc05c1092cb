package projectfile

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
)

// TestHostileProjectFiles: project files a cloned repository could carry to
// hurt whoever enters it. Each is refused (the hook reads it before any
// trust, to say what it wants), at once, with one short printable line that
// names the file: no hang of the prompt, no screenful, no terminal escape.
func TestHostileProjectFiles(t *testing.T) {
	const path = "/repo/" + Name
	fill := func(prefix, unit, suffix string) string {
		n := (MaxSize - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	nest := func(open, close string) string {
		n := (MaxSize - 16) / (len(open) + len(close))
		return "x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\n"
	}
	for _, tc := range []struct{ name, in string }{
		{"dotted key", fill("", "a.", "a = 1\n")},
		{"dotted table header", fill("[", "a.", "a]\n")},
		{"dotted array of tables", fill("[[", "a.", "a]]\n")},
		{"quoted dotted key", fill("", `"a".`, `"a" = 1`+"\n")},
		{"nested inline tables", nest("{a=", "}")},
		{"nested arrays", nest("[", "]")},
		{"nested arrays of tables", nest("[{a=", "}]")},
		{"long bare key", fill("", "k", " = 1\n")},
		{"long quoted key", fill(`"`, "k", `" = 1`+"\n")},
		{"long account name", fill(`account = "`, "a", `"`+"\n")},
		{"long unknown table", fill("[", "t", "]\n")},
		{"escape in a value", "account = \"\x1b]0;pwned\x07\"\n"},
		{"escape in a key", "\x1b[2J = 1\n"},
		{"escaped escape in a key", "\"\\u001b[2J\\u0007\" = 1\n"},
		{"escaped escape in the name", "account = \"\\u001b[2J\"\n"},
		{"NUL", "account = \"wo\x00rk\"\n"},
		{"invalid UTF-8", "account = \"w\xff\xfe\"\n"},
		{"dot dot by escapes", "account = \"\\u002e\\u002e/x\"\n"},
		{"new line by escape", "account = \"work\\n\"\n"},
		{"many lines", strings.Repeat("\n", MaxSize-20) + "account = 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.in) > MaxSize {
				t.Fatalf("input of %d bytes, over MaxSize", len(tc.in))
			}
			done := make(chan error, 1)
			go func() { _, err := Parse(path, []byte(tc.in)); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Parse did not return within 30s: the prompt would hang")
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Path != path {
				t.Fatalf("Parse = %v, want an *Error naming %s", err, path)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path) || len(msg) > 400 {
				t.Errorf("message of %d bytes: %.300q", len(msg), msg)
			}
			for _, r := range msg {
				if !unicode.IsPrint(r) {
					t.Errorf("message holds %q: %q", r, msg)
					break
				}
			}
		})
	}
}
