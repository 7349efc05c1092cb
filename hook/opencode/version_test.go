package opencode

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		version, help string
		want          Version
	}{
		{"1.18.33\n", "", Version{Major: 1, Text: "1.18.33"}},
		{"opencode v2.3.1\n", "", Version{Major: 2, Text: "opencode v2.3.1"}},
		{"2.0.0-beta.4", "", Version{Major: 2, Text: "2.0.0-beta.4"}},
		{"lildax vlocal\n", "DESCRIPTION\n  OpenCode 2.0 preview command line interface\n", Version{Major: 2, Preview: true, Text: "lildax vlocal"}},
		{"3.0.1", "", Version{Text: "3.0.1"}},
		{"something\n", "usage: something", Version{Text: "something"}},
		{"", "", Version{}},
	} {
		got := parse([]byte(c.version), []byte(c.help))
		if got != c.want {
			t.Errorf("parse(%q, %q) = %+v, want %+v", c.version, c.help, got, c.want)
		}
		if got.Known() != (c.want.Major != 0) {
			t.Errorf("%+v: Known = %v", got, got.Known())
		}
	}
}

// TestDetectCaches: the binary is asked once; a binary replaced at the
// same path is asked again; its homes are not the caller's.
func TestDetectCaches(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "opencode")
	count := filepath.Join(dir, "count")
	script := func(version string) []byte {
		return []byte("#!/bin/sh\necho \"$1 $HOME\" >> " + count + "\ncase $1 in --version) echo " + version + ";; --help) echo 'OpenCode 2.0 preview';; esac\n")
	}
	testsys.WriteExecutable(t, bin, script("1.18.33"))
	cache := filepath.Join(dir, "cache.json")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for range 3 {
		v, err := Detect(bin, cache, env)
		if err != nil || v.Major != 1 || v.Preview || v.Text != "1.18.33" {
			t.Fatalf("Detect = %+v, %v", v, err)
		}
	}
	b, _ := os.ReadFile(count)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || strings.Contains(lines[0], " "+dir+"\n") || strings.HasSuffix(lines[0], " "+dir) {
		t.Errorf("the binary was asked %q, want once, in a home of its own", lines)
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v, %v", fi, err)
	}
	// Upgraded in place: asked again.
	os.Remove(bin)
	testsys.WriteExecutable(t, bin, script("vlocal"))
	v, err := Detect(bin, cache, env)
	if err != nil || !v.V2() || !v.Preview {
		t.Fatalf("after the upgrade, Detect = %+v, %v", v, err)
	}
	if _, err := Detect(filepath.Join(dir, "missing"), cache, env); err == nil {
		t.Errorf("Detect of a missing binary: no error")
	}
}

// TestDetectAsksOnceForMany: Detects of one binary at once (shims started
// together) ask it once between them, the others reading its answer.
func TestDetectAsksOnceForMany(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "opencode")
	count := filepath.Join(dir, "count")
	// A slow answer: the others come while it is asked.
	testsys.WriteExecutable(t, bin, []byte("#!/bin/sh\necho \"$1\" >> "+count+"\nsleep 0.5\necho 1.18.33\n"))
	cache := filepath.Join(dir, "cache.json")
	env := []string{"PATH=" + os.Getenv("PATH")}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if v, err := Detect(bin, cache, env); err != nil || v.Text != "1.18.33" {
				t.Errorf("Detect = %+v, %v", v, err)
			}
		})
	}
	wg.Wait()
	if b, _ := os.ReadFile(count); strings.Count(string(b), "\n") != 1 {
		t.Errorf("five Detects at once asked the binary %q, want once", b)
	}
}

// TestDetectRealBinaries: the npm OpenCode (1.x) and the 2.0 preview CLI,
// where they are installed.
func TestDetectRealBinaries(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache.json")
	env := []string{"PATH=" + os.Getenv("PATH")}
	v1 := testsys.NeedOpencode(t)
	if v, err := Detect(v1, cache, env); err != nil || v.Major != 1 || v.Preview {
		t.Errorf("Detect(%s) = %+v, %v; want 1.x", v1, v, err)
	}
	v2 := testsys.NeedOpencode2Preview(t)
	if v, err := Detect(v2, cache, env); err != nil || !v.V2() || !v.Preview {
		t.Errorf("Detect(%s) = %+v, %v; want the 2.0 preview", v2, v, err)
	}
}
