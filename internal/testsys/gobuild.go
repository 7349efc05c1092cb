package testsys

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// GoBuild builds the main package pkg as the program out, with go's build
// flags and env added to this process's environment, and links it once per
// source for all the test binaries of a run: go run keeps each program it
// links in Go's build cache (Go 1.24 and later), where go build links anew
// each time, so a `go test ./...` whose test binaries each build oca links
// it once, and the runs after it, until the source changes, not at all
// (linking oca is seconds of CPU). go run does not run the program here: its
// -exec copies it to out. A copy, not a link: nothing runs from the cache,
// which go may trim, and a test that changed its program in place would
// change the cache's.
func GoBuild(env []string, pkg, out string, flags ...string) error {
	args := append([]string{"run"}, flags...)
	args = append(args, "-exec", "cp", pkg, out)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}
