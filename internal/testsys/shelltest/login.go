package shelltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
)

// DefaultKey is the key in the user's own data home of a LoginWorld: the
// plain OpenCode's.
const DefaultKey = "sk-oca-test-default"

// LoginWorld is a RealWorld with account a, the user's own OpenCode login,
// a project ~/unallowed whose file nobody allowed, and the shim directory
// as `oca shims` gives it (returned): where no hook runs, a login
// profile's PATH puts it first.
func LoginWorld(t *testing.T) (*RealWorld, string) {
	t.Helper()
	w := NewRealWorld(t, fakeprovider.Options{}, "a")
	fakeprovider.WriteAuth(t, w.Path(".local/share"), DefaultKey)
	w.Mkdir("unallowed")
	data := MustRead(t, w.Path("pa/.opencode-account.toml"))
	if err := os.WriteFile(w.Path("unallowed/.opencode-account.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	shims := strings.TrimSpace(w.Oca("", "shims"))
	if shims != w.Path(".local/state/oca/shim") {
		t.Fatalf("oca shims printed %q", shims)
	}
	return w, shims
}

// Bare is a command run as a login session with no hook runs it: env -i,
// the login profile's PATH (the shims first, then the real OpenCode's
// directory), nothing of oca's in the environment.
func (w *RealWorld) Bare(shims string, args ...string) *exec.Cmd {
	env := []string{
		"HOME=" + w.Home,
		"PATH=" + shims + ":" + filepath.Dir(w.Wrap) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb", "LANG=C.UTF-8", "USER=tester",
		"OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_AUTOUPDATE=1",
	}
	return exec.Command("env", append(append([]string{"-i"}, env...), args...)...)
}
