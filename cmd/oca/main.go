// Command oca binds project directories to OpenCode accounts.
//
// main builds the invocation (newApp) and runs it: as oca's own `opencode`
// when it is called by that name (shim.go), else as the command line
// (tree.go), where `oca export` and `oca hook`, which run at prompts, are
// dispatched before the command tree is built, and other words build only
// the command they name. As in github.com/cli/cli's pkg/cmd, each group of
// commands has a file of its own (account.go, server.go, trust.go, ...)
// holding each command's cobra definition, its options and its run
// function; the commands read flags and call the packages under hook/ and
// projectfile/, which do the work. The files without a command hold what
// several commands share: cmdutil.go (arguments, errors and completion),
// env.go and pick.go (the environment and the account of a command),
// wait.go (the one wait for a server), client.go (the one start of the
// real OpenCode) and style.go.
package main

import (
	"io"
	"os"

	"github.com/oca-sh/oca/hook/export"
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
	a := newApp()
	if isShim(os.Args[0]) {
		os.Exit(a.runShim(os.Args[1:])) // oca's own `opencode`, before anything else
	}
	os.Exit(a.run(os.Args[1:]))
}

// newApp is the invocation of this process.
func newApp() *app {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	return &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, env: os.Environ(), wd: export.WorkDir(os.Getenv("PWD")), self: self}
}
