package shells

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed oca.fish
var fishHook string

//go:embed complete.fish
var fishCompletion string

type fish struct{}

func (fish) Name() string { return "fish" }

func (fish) Hook(self string) (string, error) {
	return strings.ReplaceAll(fishHook, "@OCA@", quoteFish(self)), nil
}

func (fish) Completion(self string) (string, error) {
	return strings.ReplaceAll(fishCompletion, "@OCA@", quoteFish(self)), nil
}

func (fish) Spell(e Export) (string, error) {
	var b strings.Builder
	for _, v := range e.Vars {
		if !validName(v.Name) {
			return "", fmt.Errorf("bad variable name %q", v.Name)
		}
		if v.Unset {
			fmt.Fprintf(&b, "set -e -g %s\n", v.Name)
			continue
		}
		fmt.Fprintf(&b, "set -gx %s %s\n", v.Name, quoteFish(v.Value))
	}
	b.WriteString("set -g __oca_file " + quoteFish(e.File) + "\n")
	b.WriteString("set -g __oca_shim " + quoteFish(e.Shim) + "\n")
	for _, arr := range []struct {
		name  string
		words []string
	}{{"__oca_undo", e.Undo}, {"__oca_watch", e.Watch}} {
		b.WriteString("set -g " + arr.name)
		for _, w := range arr.words {
			b.WriteByte(' ')
			b.WriteString(quoteFish(w))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// quoteFish quotes s as one fish word. Inside fish's single quotes only \\
// and \' are escapes; a newline is written as \n outside the quotes, so that
// every statement stays on one line.
func quoteFish(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteString(`\n`)
		}
		if line == "" {
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(line))
		b.WriteByte('\'')
	}
	return b.String()
}
