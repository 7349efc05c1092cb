package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestShortSkipsOnlyTheSlowNeeds keeps the README's word on `go test
// -short`: it skips the tests that need the real OpenCode, a Docker engine
// or a systemd user manager, and runs every other. The module's only calls
// of testing.Short are in the helpers such tests call
// (internal/testsys's NeedOpencode, NeedOpencode2Preview, NeedDocker, NeedSystemd, and
// HaveOpencode for a testscript's condition), so nothing else skips under
// -short; and the README says so.
func TestShortSkipsOnlyTheSlowNeeds(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	want := []string{"internal/testsys/need.go:HaveOpencode", "internal/testsys/need.go:NeedDocker", "internal/testsys/need.go:NeedOpencode", "internal/testsys/need.go:NeedOpencode2Preview", "internal/testsys/need.go:NeedSystemd"}
	var got []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Short" {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "testing" {
							got = append(got, filepath.ToSlash(rel)+":"+fn.Name.Name)
						}
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("testing.Short is called in %v; want only in %v: a test that is slow for another reason runs under -short, and the README says which skip", got, want)
	}

	readme := readDoc(t, filepath.Join(root, "README.md"))
	line := regexp.MustCompile(`(?m)^go test -short \./\.\.\. +# (.*)$`).FindStringSubmatch(readme)
	if line == nil {
		t.Fatal("README.md does not show `go test -short ./...` with a comment, in the block that shows `go test ./...`")
	}
	for _, need := range []string{"OpenCode", "Docker", "systemd"} {
		if !strings.Contains(line[1], need) {
			t.Errorf("README.md's `go test -short` line does not name %s: %q", need, line[1])
		}
	}
}
