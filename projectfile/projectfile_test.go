package projectfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}

	// Nothing up to the root.
	if p := Find(deep); p != "" {
		if !strings.HasPrefix(root, filepath.Dir(p)) {
			t.Fatalf("Find(%s) = %q, want none", deep, p)
		}
		t.Skipf("a project file above the temp dir (%s) spoils this test", p)
	}

	write(t, filepath.Join(root, "a", Name), "account = \"outer\"\n")
	if p, want := Find(deep), filepath.Join(root, "a", Name); p != want {
		t.Fatalf("Find = %q, want %q", p, want)
	}

	// The nearest wins.
	write(t, filepath.Join(root, "a", "b", Name), "account = \"inner\"\n")
	if p, want := Find(deep), filepath.Join(root, "a", "b", Name); p != want {
		t.Fatalf("Find = %q, want %q", p, want)
	}

	// In the directory itself; an unclean path is cleaned.
	if p, want := Find(filepath.Join(root, "a", "b")+"/./"), filepath.Join(root, "a", "b", Name); p != want {
		t.Fatalf("Find = %q, want %q", p, want)
	}

	// A directory of that name is not a project file.
	if err := os.Mkdir(filepath.Join(deep, Name), 0o755); err != nil {
		t.Fatal(err)
	}
	if p := Find(deep); p != filepath.Join(root, "a", "b", Name) {
		t.Fatalf("Find took a directory: %q", p)
	}
}

func TestFindFollowsLogicalPath(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real", "proj")
	write(t, filepath.Join(root, "real", Name), "account = \"real\"\n")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "view", Name), "account = \"view\"\n")
	if err := os.Symlink(real, filepath.Join(root, "view", "proj")); err != nil {
		t.Fatal(err)
	}
	p := Find(filepath.Join(root, "view", "proj"))
	if want := filepath.Join(root, "view", Name); p != want {
		t.Fatalf("Find through a symlink = %q, want the logical parent's %q", p, want)
	}
}

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		in        string
		account   string
		autostart bool
	}{
		{`account = "work"`, "work", true},
		{"account = \"work\"\nautostart = false\n", "work", false},
		{"# comment\naccount = 'a.b_c-9'  # trailing\nautostart = true\n", "a.b_c-9", true},
		{"account = \"" + strings.Repeat("a", 64) + "\"", strings.Repeat("a", 64), true},
		{"account = \"0\"", "0", true},
		{"\ufeffaccount = \"bom\"", "", false}, // decided below
	} {
		f, err := Parse("/p/"+Name, []byte(tc.in))
		if tc.account == "" {
			// A BOM is either accepted or an *Error; never a panic.
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Errorf("Parse(%q): error %T %v", tc.in, err, err)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if f.Account != tc.account || f.Autostart != tc.autostart || f.Path != "/p/"+Name {
			t.Errorf("Parse(%q) = %+v", tc.in, f)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const path = "/proj/" + Name
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name string
		in   string
		line int
		key  string
		msg  string // a substring of Msg
	}{
		{"unknown key", "account = \"work\"\nfoo = 1\n", 2, "foo", "unknown key"},
		{"unknown table", "account = \"work\"\n\n[x]\ny = 1\n", 3, "x", "unknown key"},
		{"unknown nested table", "account = \"work\"\n\n\n[x.y]\nz = 1\n", 4, "x.y", "unknown key"},
		{"unknown array of tables", "account = \"work\"\n[[arr]]\nk = 1\n", 2, "arr", "unknown key"},
		{"misspelt autostart", "account = \"work\"\n\nauto_start = true\n", 3, "auto_start", "unknown key"},
		{"account is an integer", "account = 1\n", 1, "account", "wrong type"},
		{"account is an array", "\naccount = [\"a\"]\n", 2, "account", "wrong type"},
		{"account is a table", "# x\n[account]\nx = 1\n", 2, "account", "wrong type"},
		{"autostart is a string", "\n\naccount = \"work\"\nautostart = \"yes\"\n", 4, "autostart", "wrong type"},
		{"autostart is an integer", "account = \"work\"\nautostart = 1\n", 2, "autostart", "wrong type"},
		{"missing account", "autostart = true\n", 0, "account", "required key is missing"},
		{"empty file", "", 0, "account", "required key is missing"},
		{"dot dot", "account = \"../x\"\n", 1, "account", "bad account name"},
		{"slash", "\naccount = \"a/b\"\n", 2, "account", "bad account name"},
		{"upper case", "\n# c\naccount = 'A'\n", 3, "account", "bad account name"},
		{"empty name", "account = \"\"\n", 1, "account", "bad account name"},
		{"65 chars", "autostart = false\naccount = \"" + long + "\"\n", 2, "account", "bad account name"},
		{"leading dot", "account = \".hidden\"\n", 1, "account", "bad account name"},
		{"leading dash", "account = \"-x\"\n", 1, "account", "bad account name"},
		{"space", "account = \"a b\"\n", 1, "account", "bad account name"},
		{"newline escape", "account = \"a\\nb\"\n", 1, "account", "bad account name"},
		{"unterminated string", "account = \"work\n", 1, "account", "newline"},
		{"duplicate key", "account = \"work\"\naccount = \"x\"\n", 2, "account", "already been defined"},
		{"syntax error on line 3", "account = \"work\"\n\nautostart = tru\n", 3, "autostart", ""},
		{"bare garbage", "\n\n=\n", 3, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(path, []byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.in, f)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if pe.Path != path || pe.Line != tc.line || pe.Key != tc.key || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("error = %#v, want line %d key %q msg ~%q", pe, tc.line, tc.key, tc.msg)
			}
			s := err.Error()
			if !strings.HasPrefix(s, path) {
				t.Errorf("%q does not start with the path", s)
			}
			if tc.line > 0 && !strings.HasPrefix(s, path+":"+strconv.Itoa(tc.line)+": ") {
				t.Errorf("%q does not name %s:%d", s, path, tc.line)
			}
			if tc.key != "" && !strings.Contains(s, "key "+tc.key+": ") {
				t.Errorf("%q does not name key %s", s, tc.key)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Path: "/f", Msg: "m"}, "/f: m"},
		{Error{Path: "/f", Line: 12, Msg: "m"}, "/f:12: m"},
		{Error{Path: "/f", Key: "a.b", Msg: "m"}, "/f: key a.b: m"},
		{Error{Path: "/f", Line: 3, Key: "k", Msg: "m"}, "/f:3: key k: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestReadSizeLimit(t *testing.T) {
	dir := t.TempDir()
	exact := filepath.Join(dir, "exact")
	body := "account = \"work\"\n"
	body += strings.Repeat("#", MaxSize-len(body))
	write(t, exact, body)
	data, err := Read(exact)
	if err != nil || len(data) != MaxSize {
		t.Fatalf("Read of exactly MaxSize: %d bytes, %v", len(data), err)
	}
	if f, err := Parse(exact, data); err != nil || f.Account != "work" {
		t.Fatalf("Parse = %+v, %v", f, err)
	}

	big := filepath.Join(dir, "big")
	write(t, big, body+"#")
	_, err = Read(big)
	var pe *Error
	if !errors.As(err, &pe) || pe.Path != big || !strings.Contains(pe.Error(), "larger than") {
		t.Fatalf("Read of MaxSize+1: %v, want *Error naming %s", err, big)
	}

	_, err = Read(filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read of a missing file: %v, want fs.ErrNotExist", err)
	}
	if errors.Is(pe, fs.ErrNotExist) {
		t.Fatal("a size error is fs.ErrNotExist")
	}
}

func TestAccountName(t *testing.T) {
	good := []string{"a", "0", "work", "a.b", "a_b", "a-b", "9lives", strings.Repeat("z", 64)}
	bad := []string{"", "A", "Work", "../x", "..", ".", "a/b", "-a", "_a", ".a", "a b", "é", strings.Repeat("z", 65), "a\n", "a\x00"}
	for _, n := range good {
		if !ValidAccountName(n) || CheckAccountName(n) != nil {
			t.Errorf("%q rejected", n)
		}
	}
	for _, n := range bad {
		if ValidAccountName(n) {
			t.Errorf("%q accepted", n)
		}
		if err := CheckAccountName(n); err == nil || !strings.Contains(err.Error(), "bad account name") {
			t.Errorf("CheckAccountName(%q) = %v", n, err)
		}
	}
}
