package shells_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestShimOpencode2: on OpenCode 2 (the fake, FAKE_VERSION=2.x, which
// follows V2's documented command line), `opencode run` typed in a bash in
// a bound project reaches the account's server (the reply names its data
// home), through oca's proxy; another command finds the account's server
// in the account's state home.
func TestShimOpencode2(t *testing.T) {
	w := bareWorld(t)
	wrapper := filepath.Join(t.TempDir(), "opencode")
	testsys.WriteExecutable(t, wrapper, []byte("#!/bin/sh\nFAKE_VERSION=2.1.0 exec '"+fakeOpencode(t)+"' \"$@\"\n"))
	w.Write(".config/oca/accounts.toml", "opencode = \""+wrapper+"\"\n")
	if err := os.Chmod(w.Path(".config/oca/accounts.toml"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testsys.FreePort(t)
	w.Oca("", "account", "add", "v2", "--port", strconv.Itoa(port))
	w.Mkdir("proj")
	w.Oca("proj", "init", "v2")
	killAtEnd(t, w, "v2", port)
	s := w.Start("bash", "proj", shelltest.Options{})
	dataHome := w.Path(".local/share/oca/accounts/v2")

	out := s.RunWithin("opencode run hello; echo rc=$?", testsys.OpencodeWait())
	if !strings.Contains(out, `reply to "hello" from the server of `+dataHome) || !strings.Contains(out, "rc=0") {
		t.Errorf("opencode run in the project printed %q", out)
	}
	out = s.RunWithin("opencode models", testsys.OpencodeWait())
	if !strings.Contains(out, "server http://127.0.0.1:"+strconv.Itoa(port)+")") || !strings.Contains(out, "state home "+w.Path(".local/state/oca/homes/v2")) {
		t.Errorf("opencode models in the project printed %q", out)
	}
	s.Run("oca server stop v2")
}
