// Command oca binds project directories to OpenCode accounts.
//
// This package is wiring only: flags in, library calls out.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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

type command struct {
	name  string
	usage string
	run   func(a *app, args []string) error
}

func commands() []command {
	return []command{
		{"hook", "hook bash|zsh|fish            print the shell hook: eval \"$(oca hook bash)\"", (*app).cmdHook},
		{"export", "export bash|zsh|fish|json     what the hook evaluates, for $PWD", (*app).cmdExport},
		{"init", "init [ACCOUNT]                bind this directory to ACCOUNT (created if new) and allow it", (*app).cmdInit},
		{"allow", "allow [PATH]                  trust the project file at PATH (default: the nearest)", (*app).cmdAllow},
		{"deny", "deny [PATH]                   block the project file at PATH (default: the nearest)", (*app).cmdDeny},
		{"account", "account add|list|show|remove|import   manage accounts", (*app).cmdAccount},
		{"exec", "exec [ACCOUNT] -- CMD...      run CMD with the account's environment", (*app).cmdExec},
		{"login", "login [ACCOUNT]               log the account in to a provider (opencode auth login)", (*app).cmdLogin},
		{"logout", "logout [ACCOUNT]              log the account out of a provider (opencode auth logout)", (*app).cmdLogout},
		{"status", "status [--json]               accounts, their servers and providers", (*app).cmdStatus},
		{"server", "server start|stop|restart|wait|logs [ACCOUNT]   control an account's server", (*app).cmdServer},
		{"serve", "serve ACCOUNT                 the server's supervisor, in the foreground", (*app).cmdServe},
		{"attach", "attach [ACCOUNT]              wait for the server, then open OpenCode on it here", (*app).cmdAttach},
		{"systemd", "systemd install|uninstall|print [ACCOUNT]   run the account's server as a systemd user unit", (*app).cmdSystemd},
		{"compose", "compose [ACCOUNT...] [--image IMAGE]   print a Docker Compose file: one server per account", (*app).cmdCompose},
		{"doctor", "doctor [--json] [--fix]       what is wrong with this setup, and how to mend it", (*app).cmdDoctor},
		{"completion", "completion bash|zsh|fish      print the shell's completion script", (*app).cmdCompletion},
		{"version", "version                       print oca's version", (*app).cmdVersion},
	}
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "oca binds project directories to OpenCode accounts.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  oca %s\n", c.usage)
	}
	fmt.Fprintln(w, "\nRun 'oca COMMAND -h' for a command's flags.")
}

func (a *app) run(args []string) int {
	if len(args) == 0 {
		a.usage(a.stderr)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		a.usage(a.stdout)
		return 0
	}
	if name == "__complete" {
		return a.fail(a.cmdComplete(args[1:]))
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(a, args[1:])
			return a.fail(err)
		}
	}
	fmt.Fprintf(a.stderr, "oca: unknown command %q (run 'oca help')\n", name)
	return 2
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
		fmt.Fprintf(a.stderr, "oca: %s\n", ue.msg)
		return 2
	}
	fmt.Fprintf(a.stderr, "oca: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	return 1
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// version is set at build time by install.sh (-ldflags -X main.version=...).
var version = "dev"

func (a *app) cmdVersion(args []string) error {
	fmt.Fprintf(a.stdout, "oca %s\n", version)
	return nil
}
