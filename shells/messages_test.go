package shells_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// evilName is a directory name that runs a command where a shell reads it
// unquoted, and turns the terminal red where it is printed raw.
const evilName = "x$(touch pwned)`touch pwned2`\x1b[31m;y"

// TestMessagesQuoteAndEscapeNames: an untrusted project in a directory
// named with a command substitution and an escape sequence. The message
// shows the escape as text (the terminal gets no ESC from oca), and the
// command it suggests, pasted into the same shell, allows that directory
// and runs nothing: it is quoted for the shell that asked.
func TestMessagesQuoteAndEscapeNames(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.Mkdir(evilName)
		w.Write(evilName+"/.opencode-account.toml", "account = \"work\"\n")
		env := append(append([]string{}, w.Env...), "D="+w.Path(evilName))
		s := w.Start(shell, "", shelltest.Options{Env: env})
		base := s.Env()
		before := s.Raw()
		out := s.Run(`cd "$D"`)
		if raw := s.Raw()[len(before):]; strings.Contains(raw, "\x1b[31m") {
			t.Errorf("the terminal got the directory name's escape sequence raw: %q", raw)
		}
		if !strings.Contains(out, `\x1b[31m`) {
			t.Errorf("the message should show the escape as text: %q", out)
		}
		_, suggested, ok := strings.Cut(out, "if you trust it, run: ")
		suggested, _, _ = strings.Cut(suggested, "\n")
		if !ok || !strings.HasPrefix(suggested, "oca allow ") {
			t.Fatalf("no suggested command in %q", out)
		}
		expectEnv(t, "untrusted", s.Env(), base, nil)
		s.Run(suggested)
		expectEnv(t, "after pasting "+suggested, s.Env(), base, w.Vars("work"))
		for _, dir := range []string{w.Home, w.Path(evilName)} {
			for _, f := range []string{"pwned", "pwned2"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("pasting %q ran a command: %s exists", suggested, filepath.Join(dir, f))
				}
			}
		}
	})
}

// TestErrorsEscapeNames: cmd/oca's one-line error printer writes a name's
// control characters as text.
func TestErrorsEscapeNames(t *testing.T) {
	t.Parallel()
	w := shelltest.NewWorld(t)
	cmd := exec.Command(w.Bin, "allow", w.Path("no such \x1b]0;title\x07 dir"))
	cmd.Env = w.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("oca allow of a missing directory succeeded")
	}
	got := stderr.String()
	if strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, `\x1b]0;title\x07`) || strings.Count(got, "\n") != 1 {
		t.Errorf("error line: %q", got)
	}
}

// TestHolderCommandEscaped: another process holds an account's port, and
// its command line holds escape sequences. The supervisor fails to start;
// `oca status` and `oca doctor` name the holder's command with the escapes
// written as text.
func TestHolderCommandEscaped(t *testing.T) {
	t.Parallel()
	w := bareWorld(t)
	port := testsys.FreePort(t)
	name := "held"
	killAtEnd(t, w, name, port)
	w.Oca("", "account", "add", name, "--port", strconv.Itoa(port))
	const evilArg = "\x1b]0;owned\x07\x1b[2J"
	// The test listens and hands the socket to the holder, so that it
	// listens from its first instant: a holder that bound the port itself
	// was sometimes not listening 10 s later on a loaded machine (python3
	// behind pyenv's shim). The holder is sh, whose $0 is the escapes; its
	// sleep does not inherit the socket, which sh alone holds (a holder
	// that forks with the socket, as pyenv's shim did, is named by
	// whichever process the scan finds first).
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("/bin/sh", "-c", "sleep 300 3>&-", evilArg)
	holder.ExtraFiles = []*os.File{lf}
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // sh and its sleep, killed as one
	err = holder.Start()
	lf.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-holder.Process.Pid, syscall.SIGKILL); holder.Wait() })
	if !shelltest.Listening(port) {
		t.Fatalf("port %d: the holder's socket does not listen", port)
	}

	run := func(args ...string) string {
		cmd := exec.Command(w.Bin, args...)
		cmd.Env = w.Env
		cmd.Dir = w.Home
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	run("server", "start", name)
	var status string
	testsys.Eventually(t, 60*time.Second, "status names the holder", func() bool {
		status = run("status", name)
		return strings.Contains(status, "last error")
	})
	doctor := run("doctor")
	for what, out := range map[string]string{"status": status, "doctor": doctor} {
		if strings.ContainsAny(out, "\x07") || strings.Contains(out, "\x1b]") || strings.Contains(out, "\x1b[2J") {
			t.Errorf("%s printed the holder's escapes raw: %q", what, out)
		}
	}
	if !strings.Contains(status, `\x1b]0;owned\x07\x1b[2J`) {
		t.Errorf("status should name the holder's command with its escapes as text: %q", status)
	}
	if !strings.Contains(doctor, `\x1b]0;owned\x07\x1b[2J`) {
		t.Errorf("doctor should name the holder's command with its escapes as text: %q", doctor)
	}
}
