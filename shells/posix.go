package shells

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed oca.bash
var bashHook string

//go:embed oca.zsh
var zshHook string

type bash struct{}

func (bash) Name() string                     { return "bash" }
func (bash) Hook(self string) (string, error) { return fill(bashHook, self) }
func (bash) Spell(e Export) (string, error)   { return spellPOSIX(e, false) }
func (bash) Quote(s string) string            { return quotePOSIX(s) }

type zsh struct{}

func (zsh) Name() string                     { return "zsh" }
func (zsh) Hook(self string) (string, error) { return fill(zshHook, self) }
func (zsh) Spell(e Export) (string, error)   { return spellPOSIX(e, true) }
func (zsh) Quote(s string) string            { return quotePOSIX(s) }

// quotePOSIX quotes s as one word; quote writes characters a terminal acts
// on as $'\xHH' escapes. It refuses only a NUL, which no path or argument
// holds: that is quoted with its NULs dropped.
func quotePOSIX(s string) string {
	q, err := quote(s)
	if err != nil {
		q, _ = quote(strings.ReplaceAll(s, "\x00", ""))
	}
	return q
}

// quote quotes s as one word of bash or zsh, as mvdan.cc/sh/v3/syntax's
// Quote does for them (shells' tests hold the two to the same output): a
// word that needs nothing as it is, else in single quotes, else (with a
// single quote in it) in double quotes, and where anything is not
// printable or not UTF-8, in $'...' with escapes. A NUL cannot be quoted.
// It is written here so that the hook's binary links no shell parser
// (its initialisation runs at every start).
func quote(s string) (string, error) {
	if s == "" {
		return "''", nil // an empty word must be quoted, or it is no word
	}
	special, unprintable := false, false
	for offs, r := range s {
		switch r {
		case ';', '"', '\'', '(', ')', '$', '|', '&', '>', '<', '`', // tokens
			' ', '\t', '\r', '\n', // fields
			'\\',          // escapes
			'#',           // a comment
			'{',           // brace expansion
			'~',           // tilde expansion
			'*', '?', '[', // globs
			'=': // an assignment
			special = true
		case 0:
			return "", fmt.Errorf("cannot quote a NUL byte (at byte %d)", offs)
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			unprintable = true
		}
	}
	if !special && !unprintable && !isKeyword(s) {
		return s, nil
	}
	var b strings.Builder
	switch {
	case unprintable:
		b.WriteString("$'")
		for rem := s; len(rem) > 0; {
			r, size := utf8.DecodeRuneInString(rem)
			switch {
			case r == '\'', r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case unicode.IsPrint(r) && r != utf8.RuneError:
				b.WriteRune(r)
			case r == '\a':
				b.WriteString(`\a`)
			case r == '\b':
				b.WriteString(`\b`)
			case r == '\f':
				b.WriteString(`\f`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\v':
				b.WriteString(`\v`)
			case r < utf8.RuneSelf, r == utf8.RuneError && size == 1:
				fmt.Fprintf(&b, "\\x%02x", rem[0]) // two hex digits, no more
			case r < 0x10000:
				fmt.Fprintf(&b, "\\u%04x", r)
			default:
				fmt.Fprintf(&b, "\\U%08x", r)
			}
			rem = rem[size:]
		}
		b.WriteByte('\'')
	case !strings.Contains(s, "'"):
		return "'" + s + "'", nil
	default:
		b.WriteByte('"')
		for _, r := range s {
			switch r {
			case '"', '\\', '`', '$':
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	return b.String(), nil
}

// isKeyword tells whether word is one of bash's reserved words, which a
// command line reads as syntax where a plain word would be a command.
func isKeyword(word string) bool {
	switch word {
	case "!", "[[", "]]", "case", "coproc", "do", "done", "else", "esac", "fi", "for", "function",
		"if", "in", "select", "then", "time", "until", "while", "{", "}":
		return true
	}
	return false
}

// Quote quotes s as one word for bash and any POSIX shell: for the commands
// oca suggests where it does not know the user's shell.
func Quote(s string) string { return quotePOSIX(s) }

// fill puts the quoted path of the oca binary into a script.
func fill(script, self string) (string, error) {
	q, err := quote(self)
	if err != nil {
		return "", fmt.Errorf("quoting %q: %w", self, err)
	}
	return strings.ReplaceAll(script, "@OCA@", q), nil
}

// spellPOSIX renders e for bash or zsh, whose quoting and array assignment
// agree. The code survives the user's aliases and functions named export,
// unset, builtin or eval: a backslash skips an alias, and command skips a
// function. bash's command runs builtins, and builtin makes sure no disk
// command answers; zsh's command runs only disk commands unless the option
// posix_builtins is on, so zsh's code sets it, for itself alone, in an
// anonymous function (assignments in it are global, as outside).
func spellPOSIX(e Export, zsh bool) (string, error) {
	var b strings.Builder
	b.Grow(spellSize(e))
	run := `\command builtin `
	if zsh {
		run = `\command `
		b.WriteString("() {\n\\emulate -L zsh -o posix_builtins\n")
	}
	for _, v := range e.Vars {
		if !ValidName(v.Name) {
			return "", fmt.Errorf("bad variable name %q", v.Name)
		}
		if v.Unset {
			b.WriteString(run + "unset " + v.Name + "\n")
			continue
		}
		q, err := quote(v.Value)
		if err != nil {
			return "", fmt.Errorf("quoting %s: %w", v.Name, err)
		}
		b.WriteString(run + "export " + v.Name + "=" + q + "\n")
	}
	q, err := quote(e.File)
	if err != nil {
		return "", fmt.Errorf("quoting %q: %w", e.File, err)
	}
	b.WriteString("__oca_file=" + q + "\n")
	if q, err = quote(e.Shim); err != nil {
		return "", fmt.Errorf("quoting %q: %w", e.Shim, err)
	}
	b.WriteString("__oca_shim=" + q + "\n")
	for _, arr := range []struct {
		name  string
		words []string
	}{{"__oca_undo", e.Undo}, {"__oca_watch", e.Watch}} {
		b.WriteString(arr.name + "=(")
		for i, w := range arr.words {
			q, err := quote(w)
			if err != nil {
				return "", fmt.Errorf("quoting a word of %s: %w", arr.name, err)
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(q)
		}
		b.WriteString(")\n")
	}
	if zsh {
		b.WriteString("}\n")
	}
	return b.String(), nil
}
