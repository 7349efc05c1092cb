package main

import (
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oca-sh/oca/internal/testsys"
)

// TestRemoveAsksWithClientsAttached: `oca account remove` of an account
// whose server has a client attached (here a connection this test holds,
// as an OpenCode window's oca does) names how many, and stops nothing:
// without a terminal it refuses unless --yes, on a terminal it asks, and
// a no keeps the account and its server. (It used to stop the server
// without a word, and the window then ignored every prompt.)
func TestRemoveAsksWithClientsAttached(t *testing.T) {
	e := newOcaEnv(t)
	port := e.addAccount("work")
	e.must("server", "start", "work")
	e.must("server", "wait", "work", "--timeout", "60s")
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	out, errOut, err := e.run("", "account", "remove", "work")
	if err == nil || !strings.Contains(errOut, "not removing account work: its server has 1 client attached") || !strings.Contains(errOut, "--yes") {
		t.Errorf("remove without a terminal, a client attached: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(e.must("account", "list", "-q"), "work") || len(e.supervisors("work")) != 1 {
		t.Fatalf("the refused remove removed or stopped something")
	}

	// On a terminal: the question names the clients; no keeps everything.
	cmd := exec.Command(e.bin, "account", "remove", "work")
	cmd.Env, cmd.Dir = e.env, e.home
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var tout testsys.Buffer
	go io.Copy(&tout, tty)
	testsys.Eventually(t, 30*time.Second, "no question: "+tout.String(), func() bool { return strings.Contains(tout.String(), "[y/N]") })
	if q := tout.String(); !strings.Contains(q, "the server of account work has 1 client attached, which would lose it: stop it and remove the account?") {
		t.Errorf("the question: %q", q)
	}
	tty.Write([]byte("n\n"))
	if err := cmd.Wait(); err == nil {
		t.Errorf("answered no, remove succeeded: %q", tout.String())
	}
	tty.Close()
	if !strings.Contains(e.must("account", "list", "-q"), "work") || len(e.supervisors("work")) != 1 {
		t.Fatalf("answered no, and the account or its server went: %q", tout.String())
	}

	// --yes stops it all the same.
	out = e.must("account", "remove", "work", "--yes")
	if !strings.Contains(out, "removed account work") {
		t.Errorf("remove --yes: %s", out)
	}
	testsys.Eventually(t, 15*time.Second, "the server stopped", func() bool { return len(e.supervisors("work")) == 0 })
}
