package shelltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Squatter builds hook/server/testdata/squatter where any user may run it
// (see its documentation): a stand-in for another user's server on an
// account's port that records whether it was ever sent the password.
func Squatter(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oca-squatter-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "squatter")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/oca-sh/oca/hook/server/testdata/squatter")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the squatter: %v\n%s", err, out)
	}
	return bin
}
