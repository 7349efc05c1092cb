package projectfile

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Why says why the project file found at found, judged j (Untrusted or
// Denied), does not apply, a reason a line: denied; edited since it was
// allowed (the record of its last check that applied names another
// content); reached through a link (found is not where it really is:
// links are allowed on their own); never allowed; and, when the account
// has trusted_paths, that they do not trust it. trustedPaths are the
// account's, "~" expanded. Nothing is written.
func (t Trust) Why(found string, j *Judgement, trustedPaths []string) []string {
	found = filepath.Clean(found)
	if j.Verdict == Denied {
		return []string{"denied (by oca deny)"}
	}
	if j.Verdict != Untrusted {
		return nil
	}
	var why []string
	if m, ok := t.readMemo(found); ok && m.Allow != filepath.Base(j.Allow) {
		why = append(why, "edited since it was allowed")
	}
	switch {
	case found != j.Real && j.LinkAllowedBefore:
		why = append(why, fmt.Sprintf("reached through a link (it leads to %s, which an earlier oca allowed wherever it was found; links are now allowed on their own)", j.Real))
	case found != j.Real:
		why = append(why, fmt.Sprintf("reached through a link (it leads to %s; a link is allowed on its own)", j.Real))
	case len(why) == 0:
		why = append(why, "never allowed")
	}
	if len(trustedPaths) > 0 {
		why = append(why, fmt.Sprintf("not trusted by the account's trusted_paths (%s)", strings.Join(trustedPaths, ", ")))
	}
	return why
}
