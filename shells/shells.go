// Package shells knows bash, zsh and fish: the hook script each one sources
// (a real .bash/.zsh/.fish file, embedded) and how each spells setting,
// unsetting and quoting a variable. It imports nothing of oca's: the engine
// hands it plain changes, so adding a shell never touches the engine.
package shells

import (
	"fmt"
	"sort"
	"strings"
)

// Var is one variable to set or, with Unset, to remove.
type Var struct {
	Name  string
	Value string
	Unset bool
}

// Export is what the shell must do after one run of `oca export`. Besides
// the exported variables, it sets three variables of the shell's own (not
// exported, so a new shell starts without them and asks oca once):
//
//	__oca_file   the project file oca evaluated ("" for none)
//	__oca_undo   name, applied value, "1" or "0" (was set), previous value, ...:
//	             how the shell leaves the project by itself
//	__oca_watch  path, stamp, ...: files whose change makes it ask oca again
//	__oca_shim   the directory oca put first on PATH ("" for none): leaving,
//	             the shell takes that one entry off PATH and keeps the rest
type Export struct {
	Vars  []Var // exported variables, in order
	File  string
	Undo  []string
	Watch []string
	Shim  string
}

// Shell is one shell's dialect.
type Shell interface {
	Name() string
	// Hook returns the script that `oca hook SHELL` prints, calling the
	// oca binary at self.
	Hook(self string) (string, error)
	// Spell renders e as code for the shell to evaluate.
	Spell(e Export) (string, error)
	// Quote quotes s as one word of the shell, written with printable
	// characters only, for a command oca suggests that the user pastes.
	Quote(s string) string
}

// Get returns the shell called name.
func Get(name string) (Shell, error) {
	switch name {
	case "bash":
		return bash{}, nil
	case "zsh":
		return zsh{}, nil
	case "fish":
		return fish{}, nil
	}
	return nil, fmt.Errorf("unknown shell %q (want one of: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the shells oca supports.
func Names() []string {
	n := []string{"bash", "zsh", "fish"}
	sort.Strings(n)
	return n
}

// ValidName reports whether name can be a variable name in every shell.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// spellSize is about the length of e spelt for a shell, so that the code
// is written into one buffer: the hook spells at every prompt that enters
// or leaves, where growing a buffer by doubling touches twice the memory.
func spellSize(e Export) int {
	n := 128 + len(e.File) + len(e.Shim)
	for _, v := range e.Vars {
		n += 32 + len(v.Name) + len(v.Value)
	}
	for _, w := range e.Undo {
		n += 4 + len(w)
	}
	for _, w := range e.Watch {
		n += 4 + len(w)
	}
	return n + n/8
}
