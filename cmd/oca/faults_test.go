package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFaultTableNamesRealTests keeps docs/faults.md true: every row of its
// table names a test, and every test named exists (a func TestName( in a
// _test.go file of that package's directory, or a testscript file). CI runs
// every test, so every row's test runs.
func TestFaultTableNamesRealTests(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, "docs", "faults.md"))
	if err != nil {
		t.Fatal(err)
	}
	goTest := regexp.MustCompile("^`([a-z0-9_/]+)\\.(Test[A-Za-z0-9_]+)`$")
	script := regexp.MustCompile("^`(cmd/oca/testdata/script/[a-z0-9_]+\\.txtar)`$")
	rows := 0
	for i, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "|") || strings.Trim(line, "|-: ") == "" {
			continue // not the table, or its rule
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 3 {
			t.Errorf("faults.md:%d: want 3 cells (fault | what oca does | test), got %d: %q", i+1, len(cells), line)
			continue
		}
		fault, does, test := strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		if fault == "fault" {
			continue // the header
		}
		rows++
		if does == "" {
			t.Errorf("faults.md:%d: %q does not say what oca does", i+1, fault)
		}
		switch m, s := goTest.FindStringSubmatch(test), script.FindStringSubmatch(test); {
		case m != nil:
			if !hasTestFunc(t, filepath.Join(root, filepath.FromSlash(m[1])), m[2]) {
				t.Errorf("faults.md:%d: %q names %s.%s, which does not exist", i+1, fault, m[1], m[2])
			}
		case s != nil:
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(s[1]))); err != nil {
				t.Errorf("faults.md:%d: %q names %s: %v", i+1, fault, s[1], err)
			}
		default:
			t.Errorf("faults.md:%d: %q names no test (want `package/path.TestName` or `cmd/oca/testdata/script/NAME.txtar`), got %q", i+1, fault, test)
		}
	}
	if rows < 20 {
		t.Errorf("faults.md has %d rows; the table went missing or lost its shape", rows)
	}
}

// hasTestFunc reports whether a _test.go file in dir declares func name(.
func hasTestFunc(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(name) + `\(`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if decl.Match(b) {
			return true
		}
	}
	return false
}
