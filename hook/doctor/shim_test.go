package doctor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/internal/testsys"
)

// Inside a project oca's shim is the first opencode on PATH: doctor checks
// the real one behind it, and names a hand-made link to oca as an error.
func TestOpencodeBehindTheShim(t *testing.T) {
	env, dirs := world(t, 10123)
	root := t.TempDir()
	self := filepath.Join(root, "oca")
	testsys.WriteExecutable(t, self, []byte("#!/bin/sh\n"))
	real := filepath.Join(root, "npm", "opencode")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	testsys.WriteExecutable(t, real, []byte("#!/bin/sh\necho 1.18.33\n"))
	if err := shim.Ensure(shim.Dir(dirs.State), self); err != nil {
		t.Fatal(err)
	}
	env["PATH"] = shim.Dir(dirs.State) + ":" + filepath.Dir(real)
	run := func() []Finding {
		return Run(Input{Env: env, PWD: root, Self: self, Opencode: func(p string) (opencode.Version, error) { return opencode.Version{Major: 1, Text: "1.18.33"}, nil }, Tested: "1.18."})
	}
	if f := finding(run(), "opencode", real); f == nil {
		t.Errorf("doctor did not check %s: %+v", real, run())
	}
	link := filepath.Join(root, "bin", "opencode")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	env["PATH"] = filepath.Dir(link) + ":" + env["PATH"]
	if f := finding(run(), "opencode", link+" is oca itself"); f == nil || f.Severity != Error || f.Fix != "rm "+link {
		t.Errorf("a link to oca on PATH: %+v", f)
	}
}
