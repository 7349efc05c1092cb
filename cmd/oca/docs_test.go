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

// TestDocsNameRealThings keeps the design docs true the way faults.md is
// kept: docs/design.md's package list is the module's packages, and every
// Go name (`pkg.Name`) or repository path that docs/design.md, README.md or
// a package's documentation mentions exists in the code.
func TestDocsNameRealThings(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	pkgs := modulePackages(t, root)

	design := readDoc(t, filepath.Join(root, "docs", "design.md"))
	listed := packageList(design)
	for _, p := range pkgs {
		if !slices.Contains(listed, p) {
			t.Errorf("docs/design.md's package list lacks %s/", p)
		}
	}
	for _, p := range listed {
		if !slices.Contains(pkgs, p) {
			t.Errorf("docs/design.md lists %s/, which is not a package", p)
		}
	}

	checked := 0
	docs := map[string]string{"docs/design.md": design, "README.md": readDoc(t, filepath.Join(root, "README.md"))}
	// A package's own documentation names its own API without the
	// package's name: every CamelCase word in it (Serve's AddLease,
	// Config.Registered) must be declared by that package.
	prose := map[string]bool{"OpenCode": true, "OpenAI": true, "KiB": true, "MiB": true, "GiB": true}
	camel := regexp.MustCompile(`\b(?:[A-Z][a-z0-9]+\.)?[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b`)
	for _, p := range pkgs {
		doc := packageDoc(t, filepath.Join(root, p))
		if doc == "" {
			continue
		}
		docs[p+" (package doc)"] = doc
		for _, word := range camel.FindAllString(doc, -1) {
			name := word[strings.LastIndex(word, ".")+1:]
			if prose[name] {
				continue
			}
			checked++
			if !declares(t, filepath.Join(root, p), name) {
				t.Errorf("%s's package doc names %s, which it does not declare", p, word)
			}
		}
	}
	byName := map[string]string{} // the last element of a package path: its directory
	for _, p := range pkgs {
		byName[filepath.Base(p)] = p
	}
	ident := regexp.MustCompile("`([a-z]+)\\.([A-Z][A-Za-z0-9]*)[`(]")
	path := regexp.MustCompile("`((?:cmd|hook|projectfile|shells|docs|testdata|\\.ci)/[A-Za-z0-9_./-]*)`")
	for where, text := range docs {
		for _, m := range ident.FindAllStringSubmatch(text, -1) {
			dir, ok := byName[m[1]]
			if !ok {
				continue // another project's package (os.Getenv, ...)
			}
			checked++
			if !declares(t, filepath.Join(root, dir), m[2]) {
				t.Errorf("%s names %s.%s, which %s/ does not declare", where, m[1], m[2], dir)
			}
		}
		for _, m := range path.FindAllStringSubmatch(text, -1) {
			checked++
			if dir, test, ok := strings.Cut(m[1], ".Test"); ok && !strings.Contains(test, ".") {
				if !hasTestFunc(t, filepath.Join(root, dir), "Test"+test) {
					t.Errorf("%s names %s, which does not exist", where, m[1])
				}
				continue
			}
			if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(m[1], "/"))); err != nil {
				t.Errorf("%s names %s, which does not exist", where, m[1])
			}
		}
	}
	if checked < 5 {
		t.Errorf("checked %d names in the docs: the patterns no longer match what the docs write", checked)
	}
}

// modulePackages lists the directories (slash-separated, relative to root)
// that hold a non-test Go package, testdata aside.
func modulePackages(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); !slices.Contains(out, rel) {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// packageList reads the fenced block under "## Packages": the first word of
// each line that starts in column one.
func packageList(design string) []string {
	_, after, _ := strings.Cut(design, "## Packages")
	_, block, _ := strings.Cut(after, "```\n")
	block, _, _ = strings.Cut(block, "```")
	var out []string
	for _, line := range strings.Split(block, "\n") {
		if line == "" || line[0] == ' ' {
			continue
		}
		out = append(out, strings.TrimSuffix(strings.Fields(line)[0], "/"))
	}
	return out
}

// packageDoc is the package comment of the Go package in dir.
func packageDoc(t *testing.T, dir string) string {
	t.Helper()
	var doc strings.Builder
	for _, f := range parseGo(t, dir, parser.ParseComments|parser.PackageClauseOnly) {
		if f.Doc != nil {
			doc.WriteString(f.Doc.Text())
		}
	}
	// Go doc writes code in tab-indented blocks, not backquotes: quote
	// what looks like a name there, so that it is checked too.
	return regexp.MustCompile(`\b([a-z]+\.[A-Z][A-Za-z0-9]*)\(`).ReplaceAllString(doc.String(), "`$1(")
}

// declares reports whether the non-test Go files of dir declare name at top
// level (func, type, var or const) or as a method.
func declares(t *testing.T, dir, name string) bool {
	t.Helper()
	for _, f := range parseGo(t, dir, 0) {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.Name == name {
					return true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.Name == name {
							return true
						}
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, f := range st.Fields.List {
								for _, n := range f.Names {
									if n.Name == name {
										return true
									}
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.Name == name {
								return true
							}
						}
					}
				}
			}
		}
	}
	return false
}

// parseGo parses the non-test Go files of dir.
func parseGo(t *testing.T, dir string, mode parser.Mode) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, mode)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
