package shells

import (
	_ "embed"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

//go:embed oca.bash
var bashHook string

//go:embed oca.zsh
var zshHook string

type bash struct{}

func (bash) Name() string                     { return "bash" }
func (bash) Hook(self string) (string, error) { return fill(bashHook, self, syntax.LangBash) }
func (bash) Spell(e Export) (string, error)   { return spellPOSIX(e, syntax.LangBash) }
func (bash) Quote(s string) string            { return quotePOSIX(s, syntax.LangBash) }

type zsh struct{}

func (zsh) Name() string                     { return "zsh" }
func (zsh) Hook(self string) (string, error) { return fill(zshHook, self, syntax.LangZsh) }
func (zsh) Spell(e Export) (string, error)   { return spellPOSIX(e, syntax.LangZsh) }
func (zsh) Quote(s string) string            { return quotePOSIX(s, syntax.LangZsh) }

// quotePOSIX quotes s as one word; syntax.Quote writes characters a terminal
// acts on as $'\xHH' escapes. It refuses only a NUL, which no path or
// argument holds: that is quoted with its NULs dropped.
func quotePOSIX(s string, lang syntax.LangVariant) string {
	q, err := syntax.Quote(s, lang)
	if err != nil {
		q, _ = syntax.Quote(strings.ReplaceAll(s, "\x00", ""), lang)
	}
	return q
}

// Quote quotes s as one word for bash and any POSIX shell: for the commands
// oca suggests where it does not know the user's shell.
func Quote(s string) string { return quotePOSIX(s, syntax.LangBash) }

// fill puts the quoted path of the oca binary into a script.
func fill(script, self string, lang syntax.LangVariant) (string, error) {
	q, err := syntax.Quote(self, lang)
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
func spellPOSIX(e Export, lang syntax.LangVariant) (string, error) {
	var b strings.Builder
	run := `\command builtin `
	if lang == syntax.LangZsh {
		run = `\command `
		b.WriteString("() {\n\\emulate -L zsh -o posix_builtins\n")
	}
	for _, v := range e.Vars {
		if !ValidName(v.Name) {
			return "", fmt.Errorf("bad variable name %q", v.Name)
		}
		if v.Unset {
			fmt.Fprintf(&b, "%sunset %s\n", run, v.Name)
			continue
		}
		q, err := syntax.Quote(v.Value, lang)
		if err != nil {
			return "", fmt.Errorf("quoting %s: %w", v.Name, err)
		}
		fmt.Fprintf(&b, "%sexport %s=%s\n", run, v.Name, q)
	}
	q, err := syntax.Quote(e.File, lang)
	if err != nil {
		return "", fmt.Errorf("quoting %q: %w", e.File, err)
	}
	b.WriteString("__oca_file=" + q + "\n")
	if q, err = syntax.Quote(e.Shim, lang); err != nil {
		return "", fmt.Errorf("quoting %q: %w", e.Shim, err)
	}
	b.WriteString("__oca_shim=" + q + "\n")
	for _, arr := range []struct {
		name  string
		words []string
	}{{"__oca_undo", e.Undo}, {"__oca_watch", e.Watch}} {
		b.WriteString(arr.name + "=(")
		for i, w := range arr.words {
			q, err := syntax.Quote(w, lang)
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
	if lang == syntax.LangZsh {
		b.WriteString("}\n")
	}
	return b.String(), nil
}
