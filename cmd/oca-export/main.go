// Command oca-export is `oca export` for the shell's hook, in a binary that
// links only what entering a project needs (hook/export): the hook starts it
// at each prompt that finds a new or changed project file, and every package
// a Go binary links runs its initialisation at each start. install.sh
// installs it beside oca, and `oca hook SHELL` writes it into the hook
// where it finds it there (else the hook runs `oca export`).
//
// It takes oca's words, `oca-export export SHELL [--pid PID]`, and hands
// anything else to the oca beside it, by exec with the same words: help, a
// bad flag, another command, a run that must start the entered account's
// server, which oca does whole, and a run that must parse a file. Built as
// install.sh builds it (the tag oca_notoml), it links no TOML parser: it
// reads the accounts file through the record oca left of its last parse
// (account.Load) and a project file through its trust record; a file that
// has changed since, or one with a mistake to report, is oca's to parse,
// and oca leaves the records for the next prompt.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/oca-sh/oca/hook/export"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

func main() {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	oca := filepath.Join(filepath.Dir(self), "oca")
	args := os.Args[1:]
	if len(args) < 2 || args[0] != "export" {
		handOff(oca, args)
	}
	format, pid, ok := export.Args(args[1:])
	if !ok {
		handOff(oca, args)
	}
	if _, err := shells.Get(format); err != nil && format != "json" {
		handOff(oca, args)
	}
	err = export.Run(export.Options{Format: format, PID: pid, Env: os.Environ(), WD: export.WorkDir(os.Getenv("PWD")), Self: oca,
		Stdout: os.Stdout, Stderr: os.Stderr})
	if errors.Is(err, export.ErrStart) || errors.Is(err, projectfile.ErrNoTOML) {
		handOff(oca, args)
	}
	if err != nil {
		// As oca says it (cmd/oca's fail).
		fmt.Fprintf(os.Stderr, "oca: %s\n", shells.Printable(strings.ReplaceAll(err.Error(), "\n", " ")))
		os.Exit(1)
	}
}

// handOff runs the oca beside this binary with args, in this process.
func handOff(oca string, args []string) {
	err := syscall.Exec(oca, append([]string{oca}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "oca: %s: %v (oca-export runs it for all but the hook's export)\n", shells.Printable(oca), err)
	os.Exit(1)
}
