package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// TestExecMovesWhatOthersMade: `oca exec` brings the account's homes up to
// date as entering a project does: an entry another program made in the
// data home moves to the user's own and is linked; across file systems
// (a data home on a tmpfs) nothing moves, one line on stderr gives the mv,
// and the command runs all the same.
func TestExecMovesWhatOthersMade(t *testing.T) {
	t.Parallel()
	h := newCLIHome(t)
	far := filepath.Join(testsys.Tmpfs(t, "1m"), "far")
	h.oca("account", "add", "work", "--port", "10001")
	h.oca("account", "add", "far", "--port", "10002", "--data-home", far)
	work := filepath.Join(h.home, ".local/share/oca/accounts/work")
	for _, d := range []string{filepath.Join(work, "atuin"), filepath.Join(far, "atuin")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if out := h.oca("exec", "work", "--", "true"); out != "" {
		t.Errorf("oca exec work said %q", out)
	}
	if l, err := os.Readlink(filepath.Join(work, "atuin")); err != nil || l != filepath.Join(h.home, ".local/share/atuin") {
		t.Errorf("atuin in work's data home -> %q %v", l, err)
	}
	// The real data home has atuin now: far's is one both hold. Another.
	if err := os.MkdirAll(filepath.Join(far, "zoxide"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(h.bin, "exec", "far", "--", "echo", "ran")
	cmd.Env, cmd.Dir = h.env, h.home
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || string(out) != "ran\n" {
		t.Fatalf("oca exec far: %v, %q", err, out)
	}
	want := "oca: account far: zoxide in the data home " + far + ", made there by another program, is not in your own " +
		filepath.Join(h.home, ".local/share") + ", which lies on another file system"
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], want) ||
		!strings.Contains(lines[0], "mv -n "+filepath.Join(far, "zoxide")+" ") {
		t.Errorf("stderr %q, want one line starting %q", stderr.String(), want)
	}
	if fi, err := os.Lstat(filepath.Join(far, "zoxide")); err != nil || !fi.IsDir() {
		t.Errorf("zoxide moved: %v %v", fi, err)
	}
}
