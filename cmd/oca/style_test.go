package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestColourOnlyOnATerminal: doctor's marks are coloured on a terminal,
// plain in a pipe, and plain on a terminal with NO_COLOR set.
func TestColourOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte("eval \"$(oca hook bash)\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// doctor runs the opencode on PATH: the fake, which is quick.
	env := []string{"HOME=" + home, "PATH=" + filepath.Dir(shelltest.FakeOpencode(t)) + ":" + os.Getenv("PATH"), "SHELL=/bin/bash"}
	run := func(stdout io.Writer, env []string) {
		a := &app{stdin: os.Stdin, stdout: stdout, stderr: io.Discard, env: env, wd: home, self: os.Args[0]}
		a.run([]string{"doctor"})
	}

	var pipe bytes.Buffer
	run(&pipe, env)
	if !strings.Contains(pipe.String(), "ok ") || strings.Contains(pipe.String(), "\x1b[") {
		t.Errorf("in a pipe: %q", pipe.String())
	}

	for _, tc := range []struct {
		env    []string
		colour bool
	}{{env, true}, {append(env, "NO_COLOR=1"), false}} {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		run(tty, tc.env)
		tty.Close()
		out, _ := io.ReadAll(ptmx)
		ptmx.Close()
		if got := strings.Contains(string(out), "\x1b[32mok "); got != tc.colour {
			t.Errorf("on a terminal, NO_COLOR=%v: coloured=%v, want %v: %q", !tc.colour, got, tc.colour, out)
		}
	}
}
