package shells

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/oca-sh/oca/internal/testsys"
)

// hostile are values that must reach a shell's variable byte for byte.
var hostile = []string{
	"",
	"plain",
	"with spaces",
	"  leading and trailing  ",
	"two  spaces",
	`'single'`, `"double"`, `it's "mixed" 'quotes'`,
	"'", `"`, `''`, `'\''`,
	"$HOME", "${HOME}", "$(id)", "`id`", "$((1+1))", "$'x'", `$"x"`,
	`back\slash`, `\`, `\\`, `trailing\`, `\'`, `\"`, `\n`, `\$HOME`,
	"new\nline", "\nleading", "trailing\n", "\n", "\n\n", "a\n\n\nb", "\n\nboth\n\n",
	"tab\there", "\t", "\r\n", "cr\rlf",
	"é", "日本", "🎉 emoji", "mixé 日本 🎉",
	"\x01\x02\x1b[31mred\x1b[0m\x7f",
	"\xff\xfe not UTF-8", "\u009b31m C1", "\u202e reversed", "\x1b]0;title\x07",
	"a;b|c&d>e<f(g)h{i}j[k]l*m?n~o#p!q^r%s=t,u", "!!", "!$", "-e", "-n", "--", "--erase", "-gx",
	"end", "; exit 1", "&& false", "#comment",
	strings.Repeat("long ", 500),
}

func spell(t *testing.T, sh Shell, e Export) string {
	t.Helper()
	code, err := sh.Spell(e)
	if err != nil {
		t.Fatalf("%s.Spell(%+v): %v", sh.Name(), e, err)
	}
	return code
}

func parse(t *testing.T, lang syntax.LangVariant, name, code string) {
	t.Helper()
	if _, err := syntax.NewParser(syntax.Variant(lang)).Parse(strings.NewReader(code), name); err != nil {
		t.Fatalf("%s does not parse as %v: %v\n%s", name, lang, err, code)
	}
}

func TestSpellParses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sh   Shell
		lang syntax.LangVariant
	}{{bash{}, syntax.LangBash}, {zsh{}, syntax.LangZsh}} {
		for _, v := range hostile {
			e := Export{
				Vars:  []Var{{Name: "V", Value: v}, {Name: "_Other2", Unset: true}},
				Watch: []string{"/p/" + v, v, "/x", ""},
			}
			code := spell(t, tc.sh, e)
			parse(t, tc.lang, tc.sh.Name(), code)
			if n := strings.Count(code, "\n"); n < 3 {
				t.Errorf("%q: %d statements", code, n)
			}
		}
		parse(t, tc.lang, "empty", spell(t, tc.sh, Export{}))
	}
}

func TestSpellRefusesBadNames(t *testing.T) {
	t.Parallel()
	for _, sh := range []Shell{bash{}, zsh{}, fish{}} {
		for _, name := range []string{"", "1A", "A-B", "A B", "A=B", "$(x)", "a;b", "é"} {
			if code, err := sh.Spell(Export{Vars: []Var{{Name: name, Value: "x"}}}); err == nil {
				t.Errorf("%s spelt a variable named %q: %q", sh.Name(), name, code)
			}
			if _, err := sh.Spell(Export{Vars: []Var{{Name: name, Unset: true}}}); err == nil {
				t.Errorf("%s unset a variable named %q", sh.Name(), name)
			}
		}
	}
}

func TestHookScriptsParse(t *testing.T) {
	t.Parallel()
	for _, self := range []string{"/usr/local/bin/oca", "/home/a b/bin/oca", "/tmp/it's \"x\" $HOME/`id`/oca", "/opt/é/日本/oca"} {
		for _, tc := range []struct {
			sh   Shell
			lang syntax.LangVariant
		}{{bash{}, syntax.LangBash}, {zsh{}, syntax.LangZsh}} {
			script, err := tc.sh.Hook(self)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(script, "@OCA@") {
				t.Fatalf("%s hook keeps the placeholder", tc.sh.Name())
			}
			_, err = syntax.NewParser(syntax.Variant(tc.lang)).Parse(strings.NewReader(script), tc.sh.Name()+" hook")
			if err != nil {
				t.Fatalf("%s hook does not parse: %v\n%s", tc.sh.Name(), err, script)
			}
		}
		// The shells' own parsers, where they are installed.
		for _, tc := range []struct {
			name string
			args []string
		}{{"bash", []string{"--norc", "--noprofile", "-n"}}, {"zsh", []string{"-f", "-n"}}, {"fish", []string{"--no-config", "-n"}}} {
			p := testsys.NeedTool(t, tc.name)
			sh, _ := Get(tc.name)
			script, err := sh.Hook(self)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(p, tc.args...)
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
				t.Fatalf("%s -n of the hook: %v\n%s", tc.name, err, out)
			}
		}
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	for _, n := range Names() {
		sh, err := Get(n)
		if err != nil || sh.Name() != n {
			t.Errorf("Get(%q) = %v, %v", n, sh, err)
		}
	}
	if !slices.Equal(Names(), []string{"bash", "fish", "zsh"}) {
		t.Errorf("Names = %v", Names())
	}
	if _, err := Get("csh"); err == nil || !strings.Contains(err.Error(), "bash, fish, zsh") {
		t.Errorf("Get(csh) = %v", err)
	}
}

// runner evaluates spelt code in a real shell as the hook does, then runs
// probe, and returns its stdout.
type runner struct {
	sh   Shell
	run  func(code, probe string) *exec.Cmd
	read string // probe printing $V raw
}

func runners(t *testing.T) []runner {
	var rs []runner
	if p := testsys.NeedTool(t, "bash"); p != "" {
		rs = append(rs, runner{bash{}, func(code, probe string) *exec.Cmd {
			return exec.Command(p, "--norc", "--noprofile", "-c", `out=$1; eval "$out"; `+probe, "_", code)
		}, `printf %s "$V"`})
	}
	if p := testsys.NeedTool(t, "zsh"); p != "" {
		rs = append(rs, runner{zsh{}, func(code, probe string) *exec.Cmd {
			return exec.Command(p, "-f", "-c", `out=$1; eval "$out"; `+probe, "_", code)
		}, `printf %s "$V"`})
	}
	if p := testsys.NeedTool(t, "fish"); p != "" {
		rs = append(rs, runner{fish{}, func(code, probe string) *exec.Cmd {
			// As the fish hook does: the output split into lines by a
			// command substitution, joined again and sourced.
			return exec.Command(p, "--no-config", "-c", `set -l out (printf %s $argv[1]); string join \n -- $out | source; `+probe, code)
		}, `printf %s "$V"`})
	}
	return rs
}

func output(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\nstderr: %s", cmd.Args[:2], err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("%v wrote to stderr: %s", cmd.Args[:2], stderr.String())
	}
	return stdout.String()
}

func TestSpellRoundTripInRealShells(t *testing.T) {
	t.Parallel()
	for _, r := range runners(t) {
		t.Run(r.sh.Name(), func(t *testing.T) {
			// One spell sets every value, V0 to Vn, and one shell prints
			// each into a file of its own.
			dir := t.TempDir()
			var vars []Var
			var probe []string
			for i, v := range hostile {
				name := fmt.Sprintf("V%d", i)
				vars = append(vars, Var{Name: name, Value: v})
				probe = append(probe, strings.ReplaceAll(r.read, "$V", "$"+name)+" > "+r.sh.Quote(filepath.Join(dir, name)))
			}
			code := spell(t, r.sh, Export{Vars: vars})
			output(t, r.run(code, strings.Join(probe, "\n")))
			for i, v := range hostile {
				if got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("V%d", i))); err != nil || string(got) != v {
					t.Errorf("%q came back as %q (%v)\ncode: %s", v, got, err, code)
				}
			}
		})
	}
}

func TestSpellExportsAndUnsets(t *testing.T) {
	t.Parallel()
	for _, r := range runners(t) {
		t.Run(r.sh.Name(), func(t *testing.T) {
			code := spell(t, r.sh, Export{Vars: []Var{
				{Name: "V", Value: "a 'b'\n$c"}, {Name: "GONE", Value: "x"}, {Name: "GONE", Unset: true},
			}})
			// V reaches a child process (exported); GONE is unset.
			probe := `env | grep -c '^V=' ; printenv GONE || echo unset`
			if got := output(t, r.run(code, probe)); got != "1\nunset\n" {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestSpellWatchList(t *testing.T) {
	t.Parallel()
	watch := []string{"/p a/.opencode-account.toml", "", "/q/x", ".", "/r/'$x'\n", "/s/stamp"}
	for _, r := range runners(t) {
		t.Run(r.sh.Name(), func(t *testing.T) {
			code := spell(t, r.sh, Export{Watch: watch})
			probe := `for w in "${__oca_watch[@]}"; do printf '%s\0' "$w"; done`
			if r.sh.Name() == "fish" {
				probe = `for w in $__oca_watch; printf '%s\0' "$w"; end`
			}
			got := output(t, r.run(code, probe))
			want := strings.Join(watch, "\x00") + "\x00"
			if got != want {
				t.Errorf("watch list %q, want %q", got, want)
			}
			// And an empty one empties it.
			if got := output(t, r.run(spell(t, r.sh, Export{}), strings.ReplaceAll(probe, "'%s\\0'", "'%s|'"))); got != "" {
				t.Errorf("empty watch list holds %q", got)
			}
		})
	}
}

// TestStale runs each hook's __oca_stale, the check that decides without a
// process whether oca must run, against real files.
func TestStale(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"bash", "zsh", "fish"} {
		t.Run(name, func(t *testing.T) {
			p := testsys.NeedTool(t, name)
			sh, _ := Get(name)
			hookScript, err := sh.Hook("/nonexistent/oca")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "f")
			stamp := filepath.Join(dir, "stamp")
			other := filepath.Join(dir, "other")
			mtime := time.Date(2020, 1, 2, 3, 4, 5, 6789, time.UTC)
			reset := func() {
				os.Remove(other)
				for _, f := range []string{file, stamp} {
					if err := os.WriteFile(f, nil, 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Chtimes(f, mtime, mtime); err != nil {
						t.Fatal(err)
					}
				}
			}
			stale := func(watch ...string) bool {
				t.Helper()
				var cmd *exec.Cmd
				switch name {
				case "fish":
					script := hookScript + "\nset -g __oca_pwd $PWD\nset -g __oca_watch $argv\n__oca_stale; and echo stale; or echo fresh\n"
					cmd = exec.Command(p, append([]string{"--no-config", "-i", "-c", script}, watch...)...)
				case "bash":
					cmd = exec.Command(p, "--norc", "--noprofile", "-c", `eval "$1"; shift; __oca_pwd=$PWD; __oca_watch=("$@"); if __oca_stale; then echo stale; else echo fresh; fi`, "_", hookScript)
					cmd.Args = append(cmd.Args, watch...)
				case "zsh":
					cmd = exec.Command(p, "-f", "-c", `eval "$1"; shift; __oca_pwd=$PWD; __oca_watch=("$@"); if __oca_stale; then echo stale; else echo fresh; fi`, "_", hookScript)
					cmd.Args = append(cmd.Args, watch...)
				}
				cmd.Dir = dir
				var out bytes.Buffer
				cmd.Stdout = &out
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TERM=dumb"}
				if err := cmd.Run(); err != nil {
					t.Fatalf("%v", err)
				}
				s := strings.TrimSpace(out.String())
				return strings.HasSuffix(s, "stale")
			}
			for _, tc := range []struct {
				name   string
				change func()
				watch  []string
				want   bool
			}{
				{"nothing changed", func() {}, []string{file, stamp}, false},
				{"file edited", func() { os.Chtimes(file, mtime.Add(time.Second), mtime.Add(time.Second)) }, []string{file, stamp}, true},
				{"file moved back in time", func() { os.Chtimes(file, mtime.Add(-time.Hour), mtime.Add(-time.Hour)) }, []string{file, stamp}, true},
				{"file deleted", func() { os.Remove(file) }, []string{file, stamp}, true},
				{"stamp replaced by another shell", func() { os.Remove(stamp) }, []string{file, stamp}, true},
				{"absent stays absent", func() {}, []string{other, ""}, false},
				{"absent created", func() { os.WriteFile(other, nil, 0o644) }, []string{other, ""}, true},
				{"present stays", func() {}, []string{file, "."}, false},
				{"present removed", func() { os.Remove(file) }, []string{file, "."}, true},
				{"second of several", func() { os.WriteFile(other, nil, 0o644) }, []string{file, stamp, other, "", file, "."}, true},
				{"none", func() {}, nil, false},
			} {
				reset()
				tc.change()
				if got := stale(tc.watch...); got != tc.want {
					t.Errorf("%s: stale = %v, want %v", tc.name, got, tc.want)
				}
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain /a b/'c' \\ é 日本": "plain /a b/'c' \\ é 日本",
		"\x1b[31mred\x1b[0m":     `\x1b[31mred\x1b[0m`,
		"a\nb\tc\rd\x7f":         `a\nb\tc\rd\x7f`,
		"\xff\xfe":               `\xff\xfe`,
		"\u009b2J \u202e":        `\u009b2J \u202e`,
		"\x1b]0;title\x07":       `\x1b]0;title\x07`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQuoteRoundTrip: a word quoted for a shell is printable, and the shell
// reads it back byte for byte, running nothing.
func TestQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range runners(t) {
		t.Run(r.sh.Name(), func(t *testing.T) {
			dir := t.TempDir()
			// One shell prints every value, each into a file of its own.
			var probe []string
			var values, quoted []string
			for _, v := range append(hostile, "/tmp/$(touch "+dir+"/pwned)\x1b[2J", "`touch "+dir+"/pwned`") {
				if v == "" {
					continue
				}
				q := r.sh.Quote(v)
				if Printable(q) != q || strings.Contains(q, "\n") {
					t.Errorf("%q quoted as %q: not one printable line", v, q)
				}
				out := filepath.Join(dir, fmt.Sprintf("out.%d", len(values)))
				probe = append(probe, "printf %s "+q+" > "+r.sh.Quote(out))
				values, quoted = append(values, v), append(quoted, q)
			}
			output(t, r.run("", strings.Join(probe, "\n")))
			for i, v := range values {
				got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out.%d", i)))
				if err != nil || string(got) != v {
					t.Errorf("%q quoted as %q came back as %q (%v)", v, quoted[i], got, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
				t.Errorf("a quoted word ran a command")
			}
		})
	}
}
