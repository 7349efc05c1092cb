package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oca-sh/oca/internal/testsys"
)

// TestInitAsksOnATerminal: `oca init wrok` on a terminal, when the user has
// an account work, asks before creating wrok, names work, and creates it
// only on a yes.
func TestInitAsksOnATerminal(t *testing.T) {
	h := newCLIHome(t)
	h.oca("account", "add", "work")
	proj := filepath.Join(h.home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		answer  string
		created bool
	}{{"", false}, {"n", false}, {"y", true}} {
		cmd := exec.Command(h.bin, "init", "wrok")
		cmd.Env, cmd.Dir = append(h.env, "PWD="+proj), proj
		tty, err := pty.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		var out testsys.Buffer
		go io.Copy(&out, tty)
		testsys.Eventually(t, 30*time.Second, "no question: "+out.String(), func() bool { return strings.Contains(out.String(), "[y/N]") })
		if q := out.String(); !strings.Contains(q, "you have no account wrok (did you mean work?); create it?") {
			t.Errorf("the question: %q", q)
		}
		tty.Write([]byte(tc.answer + "\n"))
		err = cmd.Wait()
		tty.Close()
		list := h.oca("account", "list", "--quiet")
		_, statErr := os.Stat(filepath.Join(proj, ".opencode-account.toml"))
		if got := strings.Contains(list, "wrok"); got != tc.created || (statErr == nil) != tc.created || (err == nil) != tc.created {
			t.Errorf("answer %q: account created %v, project file %v, exit %v; want created %v (%q)", tc.answer, got, statErr, err, tc.created, out.String())
		}
	}
}
