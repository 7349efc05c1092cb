package projectfile

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`account = "work"`,
		"account = \"work\"\nautostart = false\n",
		"# c\naccount = 'a.b'  # x\n",
		"account = \"../x\"\n", "account = \"A\"\n", "account = \"\"\n",
		"account = \"" + strings.Repeat("a", 65) + "\"\n",
		"account = 1\n", "account = [\"a\"]\n", "[account]\nx = 1\n",
		"account = \"work\"\nfoo = 1\n", "account = \"work\"\n[x.y]\nz = 1\n",
		"account = \"work\"\n[[a]]\n[[a]]\nb = 1\n",
		"account = \"work\n", "account = \"work\"\naccount = \"x\"\n",
		"account = \"w\\u0000\"\n", "account = \"work\" \r\n", "\ufeffaccount = \"work\"\n",
		"a = {b = {c = {d = 1}}}\n", "a = [[[[[[1]]]]]]\n", "\"\" = 1\n", "a.\"b.c\".d = 1\n",
		"x = 1979-05-27T07:32:00Z\n", "x = 0x7fffffffffffffff\n", "x = inf\n",
		"account = \"\"\"\nwork\"\"\"\n", "\x00", "[", "=", "\xff\xfe",
	} {
		f.Add(s)
	}
	const path = "/some/where/" + Name
	f.Fuzz(func(t *testing.T, data string) {
		pf, err := Parse(path, []byte(data))
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if pe.Path != path || !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q does not name %s", err, path)
			}
			if pe.Line < 0 || pe.Line > strings.Count(data, "\n")+2 {
				t.Fatalf("error line %d in a document of %d lines", pe.Line, strings.Count(data, "\n")+1)
			}
			return
		}
		if !ValidAccountName(pf.Account) || pf.Path != path {
			t.Fatalf("Parse(%q) = %+v", data, pf)
		}
	})
}
