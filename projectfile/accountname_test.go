package projectfile

import (
	"regexp"
	"strings"
	"testing"
)

// accountNameRE is the rule as DESIGN writes it; ValidAccountName spells it
// out by hand and must agree with it.
var accountNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func TestValidAccountNameAgreesWithTheRule(t *testing.T) {
	for _, name := range []string{
		"", "a", "0", "work", "my-work_2.x", "a.", "a-", "a_",
		"-a", ".a", "_a", "A", "wOrk", "wo rk", "work\n", "\nwork", "wörk", "work/x", "..", "a\x00",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
		"9" + strings.Repeat("-", 63), "9" + strings.Repeat("-", 64),
	} {
		if got, want := ValidAccountName(name), accountNameRE.MatchString(name); got != want {
			t.Errorf("ValidAccountName(%q) = %v, the rule says %v", name, got, want)
		}
	}
}

func FuzzValidAccountNameAgreesWithTheRule(f *testing.F) {
	for _, s := range []string{"work", "-a", "a-", strings.Repeat("z", 64), "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := ValidAccountName(name), accountNameRE.MatchString(name); got != want {
			t.Errorf("ValidAccountName(%q) = %v, the rule says %v", name, got, want)
		}
	})
}
