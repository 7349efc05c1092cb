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

//go:embed complete.bash
var bashCompletion string

//go:embed complete.zsh
var zshCompletion string

type bash struct{}

func (bash) Name() string                     { return "bash" }
func (bash) Hook(self string) (string, error) { return fill(bashHook, self, syntax.LangBash) }
func (bash) Spell(e Export) (string, error)   { return spellPOSIX(e, syntax.LangBash) }

type zsh struct{}

func (zsh) Name() string                     { return "zsh" }
func (zsh) Hook(self string) (string, error) { return fill(zshHook, self, syntax.LangZsh) }
func (zsh) Spell(e Export) (string, error)   { return spellPOSIX(e, syntax.LangZsh) }

// fill puts the quoted path of the oca binary into a script.
func fill(script, self string, lang syntax.LangVariant) (string, error) {
	q, err := syntax.Quote(self, lang)
	if err != nil {
		return "", fmt.Errorf("quoting %q: %w", self, err)
	}
	return strings.ReplaceAll(script, "@OCA@", q), nil
}

// spellPOSIX renders e for bash or zsh, whose export, unset, quoting and
// array assignment agree.
func spellPOSIX(e Export, lang syntax.LangVariant) (string, error) {
	var b strings.Builder
	for _, v := range e.Vars {
		if !validName(v.Name) {
			return "", fmt.Errorf("bad variable name %q", v.Name)
		}
		if v.Unset {
			fmt.Fprintf(&b, "unset %s\n", v.Name)
			continue
		}
		q, err := syntax.Quote(v.Value, lang)
		if err != nil {
			return "", fmt.Errorf("quoting %s: %w", v.Name, err)
		}
		fmt.Fprintf(&b, "export %s=%s\n", v.Name, q)
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
	return b.String(), nil
}

func (bash) Completion(self string) (string, error) {
	return fill(bashCompletion, self, syntax.LangBash)
}
func (zsh) Completion(self string) (string, error) { return fill(zshCompletion, self, syntax.LangZsh) }
