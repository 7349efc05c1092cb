package shells

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"
)

//go:embed oca.fish
var fishHook string

type fish struct{}

func (fish) Name() string { return "fish" }

// Quote quotes s as one fish word, printable.
func (fish) Quote(s string) string { return quoteFish(s) }

func (fish) Hook(self string) (string, error) {
	return strings.ReplaceAll(fishHook, "@OCA@", quoteFish(self)), nil
}

func (fish) Spell(e Export) (string, error) {
	var b strings.Builder
	b.Grow(spellSize(e))
	for _, v := range e.Vars {
		if !ValidName(v.Name) {
			return "", fmt.Errorf("bad variable name %q", v.Name)
		}
		if v.Unset {
			b.WriteString("set -e -g " + v.Name + "\n")
			continue
		}
		b.WriteString("set -gx " + v.Name + " " + quoteFish(v.Value) + "\n")
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
// and \' are escapes; characters a terminal acts on (see Printable) and
// bytes that are not UTF-8 are written as escapes outside the quotes, so
// that every statement stays on one printable line.
func quoteFish(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	open := false
	quote := func(on bool) {
		if open != on {
			b.WriteByte('\'')
			open = on
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			quote(false)
			fmt.Fprintf(&b, `\X%02x`, s[i])
		case r == '\n':
			quote(false)
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			quote(false)
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			quote(false)
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\\' || r == '\'':
			quote(true)
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			quote(true)
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	quote(false)
	return b.String()
}
