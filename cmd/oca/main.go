// Command oca binds project directories to OpenCode accounts.
//
// This package is wiring only: flags in, library calls out.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/oca-sh/oca/shells"
)

// app is one invocation: its streams and environment, so that commands are
// tested without touching the process's own.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    []string
	wd     string
	self   string // path of this binary
	tree   bool   // the command tree was built (the hot path builds none)
}

func main() {
	if isShim(os.Args[0]) {
		os.Exit(shimMain()) // oca's own `opencode`, before anything else
	}
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	wd := os.Getenv("PWD")
	if cwd, err := os.Getwd(); err == nil && (wd == "" || !sameDir(wd, cwd)) {
		wd = cwd
	}
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, env: os.Environ(), wd: wd, self: self}
	os.Exit(a.run(os.Args[1:]))
}

func sameDir(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// exitError carries an exit status through without a message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (a *app) run(args []string) int {
	if code, ok := a.fastPath(args); ok {
		return code
	}
	root := a.newRoot(args)
	root.SetArgs(args)
	return a.fail(root.Execute())
}

// fastPath runs `oca export` and `oca hook` as the shell's hook calls them,
// without building the command tree: they run at prompts. Anything else
// about them (help, a bad flag, a wrong count) goes to the tree, which runs
// the same code.
func (a *app) fastPath(args []string) (int, bool) {
	if len(args) == 0 || args[0] != "export" && args[0] != "hook" {
		return 0, false
	}
	var pos []string
	pid := 0
	for i := 1; i < len(args); i++ {
		arg := args[i]
		switch {
		case args[0] == "export" && arg == "--pid" && i+1 < len(args):
			i++
			arg = "--pid=" + args[i]
			fallthrough
		case args[0] == "export" && strings.HasPrefix(arg, "--pid="):
			n, err := strconv.Atoi(strings.TrimPrefix(arg, "--pid="))
			if err != nil {
				return 0, false
			}
			pid = n
		case strings.HasPrefix(arg, "-"):
			return 0, false
		default:
			pos = append(pos, arg)
		}
	}
	if len(pos) != 1 {
		return 0, false
	}
	if args[0] == "hook" {
		return a.fail(a.cmdHook(pos[0])), true
	}
	return a.fail(a.cmdExport(pos[0], pid)), true
}

// fail prints err as one line and returns the exit status.
func (a *app) fail(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "oca: %s\n", shells.Printable(ue.msg))
		return 2
	}
	fmt.Fprintf(a.stderr, "oca: %s\n", shells.Printable(strings.ReplaceAll(err.Error(), "\n", " ")))
	return 1
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// version is set at build time by install.sh (-ldflags -X main.version=...).
var version = "dev"

func (a *app) cmdVersion() error {
	fmt.Fprintf(a.stdout, "oca %s\n", version)
	return nil
}
