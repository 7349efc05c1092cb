package shells

import (
	"slices"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// quoteCases are words whose quoting quote must agree on with
// mvdan.cc/sh/v3/syntax, which it stands in for.
var quoteCases = append(slices.Clone(hostile),
	"if", "then", "{", "}", "[[", "!", "elif", "a b", "x=y", "~user", "*", "?", "[a]",
	"\a\b\f\v", "\x00", "a\x00b", "\U0001F600", "\u00ad soft hyphen", "\ufeff", "\xc3\x28", "ab\x01cd'e\\f",
	strings.Repeat("\x1b", 3)+"0123", "\x7f0a", "é\x80")

// TestQuoteAgreesWithSyntax: quote gives, for bash and zsh, what
// syntax.Quote gives, NUL refused alike: the hook's binary links no shell
// parser, and quotes as before.
func TestQuoteAgreesWithSyntax(t *testing.T) {
	t.Parallel()
	for _, s := range quoteCases {
		checkQuote(t, s)
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range quoteCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkQuote(t, s) })
}

func checkQuote(t *testing.T, s string) {
	t.Helper()
	got, err := quote(s)
	for _, lang := range []syntax.LangVariant{syntax.LangBash, syntax.LangZsh} {
		want, werr := syntax.Quote(s, lang)
		if (err != nil) != (werr != nil) || got != want {
			t.Errorf("quote(%q) = %q, %v; syntax.Quote(%s) = %q, %v", s, got, err, lang, want, werr)
		}
	}
}
