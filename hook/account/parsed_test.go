package account

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/projectfile"
)

// TestParsedRecord: Load takes the accounts file from the parsed record
// when the record is of the file's content, and is the user's own in a
// directory of the user's own; else it parses the file, and records it.
// (A record altered by hand shows which one Load took.)
func TestParsedRecord(t *testing.T) {
	home := t.TempDir()
	d := Dirs{Home: home, Config: filepath.Join(home, "c"), State: filepath.Join(home, "s"), Data: filepath.Join(home, "d")}
	for _, dir := range []string{d.Config, d.State} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	content := "[accounts.work]\nport = 10001\n"
	if err := os.WriteFile(d.AccountsFile(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	port := func() int {
		t.Helper()
		r, err := Load(d)
		if err != nil {
			t.Fatal(err)
		}
		return r.Accounts["work"].Port
	}
	if p := port(); p != 10001 {
		t.Fatalf("port %d, want 10001", p)
	}
	rec := d.ParsedFile()
	fi, err := os.Stat(rec)
	if err != nil {
		t.Fatalf("Load left no record: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the record's mode is %04o, want 0600: it holds what the accounts file holds, env values too", fi.Mode().Perm())
	}
	// alter rewrites the record with another port: a record Load reads
	// gives 10009.
	alter := func() {
		t.Helper()
		b, err := os.ReadFile(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "\nport 10001\n") {
			t.Fatalf("no port line in the record:\n%s", b)
		}
		os.Remove(rec)
		if err := os.WriteFile(rec, []byte(strings.Replace(string(b), "port 10001", "port 10009", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	alter()
	if p := port(); p != 10009 {
		t.Fatalf("with a record of the file's content, port %d, want the record's 10009", p)
	}

	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T)
	}{
		{"the file changed", func(t *testing.T) {
			content += "# another comment\n"
			if err := os.WriteFile(d.AccountsFile(), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"others may write the record", func(t *testing.T) { os.Chmod(rec, 0o622) }},
		{"others may write its directory", func(t *testing.T) {
			os.Chmod(d.State, 0o777)
			t.Cleanup(func() { os.Chmod(d.State, 0o700) })
		}},
		{"another user's record", func(t *testing.T) {
			testsys.RequireRoot(t)
			if err := os.Chown(rec, 4242, 4242); err != nil {
				t.Fatal(err)
			}
		}},
		{"a link", func(t *testing.T) {
			b, err := os.ReadFile(rec)
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(home, "elsewhere")
			if err := os.WriteFile(target, b, 0o600); err != nil {
				t.Fatal(err)
			}
			os.Remove(rec)
			if err := os.Symlink(target, rec); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(rec)
			if p := port(); p != 10001 { // parsed, and recorded
				t.Fatalf("port %d, want 10001", p)
			}
			alter()
			tc.spoil(t)
			if p := port(); p != 10001 {
				t.Errorf("port %d, want the file's 10001: Load believed a record it must not", p)
			}
		})
	}
}

// accountsSeeds are accounts files for the record's fuzzing: every key,
// and the forms the decoder tells apart (an empty table or list, or none).
var accountsSeeds = []string{
	"", "[accounts]\n", "accounts = {}\n", "[accounts.work]\nport = 10001\n",
	"opencode = \"~/bin/opencode\"\n[accounts.a]\nport = 10001\ndata_home = \"~/x\"\nstate_home = \"~/s\"\nconfig_dir = \"~/c\"\nidle_timeout = \"1h\"\nstart_timeout = 90\ntrusted_paths = [\"~/w\", \"a \\\"q\\\" \\n b\"]\nsystemd = true\nattach = false\n[accounts.a.env]\nK = \"v\"\n\"a b\" = \"\\u0000\\t\"\n",
	"[accounts.\"x.y\"]\nport = 10001\ntrusted_paths = []\nenv = {}\nexternal = true\nattach = true\nstart_timeout = \"2m\"\n",
	"[accounts.b]\nport = 10002\nstart_timeout = 1.5\n[accounts.a]\nport = 10001\n",
	"[accounts.a]\nstart_timeout = true\n", "[accounts.a]\ndata_home = \"é \\u00ff \\U0001F600\"\n",
}

// FuzzParsedRecord: whatever the TOML decoder makes of an accounts file,
// the record of it reads back as exactly that (or it is not recorded: a
// start_timeout of another type); and no record, however mangled, makes
// its reading panic.
func FuzzParsedRecord(f *testing.F) {
	for _, s := range accountsSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var want fileTOML
		if err := projectfile.DecodeTOML("/a.toml", []byte(data), &want, []string{envKeys}); err == nil {
			for _, a := range want.Accounts {
				if x, ok := a.StartTimeout.(float64); ok && math.IsNaN(x) {
					return // NaN is no value DeepEqual can match
				}
			}
			digest := digestOf([]byte(data))
			rec, ok := encodeParsed(digest, want)
			if !ok {
				for _, a := range want.Accounts {
					switch a.StartTimeout.(type) {
					case nil, int64, float64, string:
					default:
						ok = true
					}
				}
				if !ok {
					t.Fatalf("not recorded: %#v", want)
				}
				return
			}
			got, ok := decodeParsed(string(rec), digest)
			if !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("the record of\n%s\nreads back as %#v (%v), want %#v\nrecord:\n%s", data, got, ok, want, rec)
			}
			if _, ok := decodeParsed(string(rec), digestOf([]byte(data+" "))); ok {
				t.Fatal("a record was read as that of other content")
			}
		}
		// data as a record itself, of whatever digest it names.
		if lines := strings.SplitN(data, "\n", 3); len(lines) == 3 {
			decodeParsed(data, lines[1])
		}
	})
}
