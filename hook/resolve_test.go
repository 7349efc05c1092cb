package hook

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oca-sh/oca/projectfile"
)

// tree lists every path under root.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var list []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		list = append(list, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestWhichChangesNothing: Which names the account Export would bind, and
// says why none applies, without writing anything (no stamps, no data home,
// no password), where Export does; what it may leave are caches: the parsed
// record of the accounts file, and the trust store's record of a project
// file's last check (seen/).
func TestWhichChangesNothing(t *testing.T) {
	w := newWorld(t)
	proj := w.project("code/app", "work")
	w.write("code/cloned/"+projectfile.Name, "account = \"work\"\n")
	before := tree(t, w.home)
	parsed := w.dirs.ParsedFile()

	name, msgs, err := Which(Input{Env: w.base, PWD: filepath.Join(proj, "src")})
	if err != nil || name != "work" || len(msgs) != 0 {
		t.Errorf("Which in an allowed project = %q, %q, %v; want work", name, msgs, err)
	}
	name, msgs, err = Which(Input{Env: w.base, PWD: w.path("code/cloned")})
	if err != nil || name != "" || len(msgs) != 1 || !strings.Contains(msgs[0], "wants account work; if you trust it, run: oca allow") {
		t.Errorf("Which in an untrusted project = %q, %q, %v; want none, and why", name, msgs, err)
	}
	name, msgs, err = Which(Input{Env: w.base, PWD: w.path("code")})
	if err != nil || name != "" || len(msgs) != 0 {
		t.Errorf("Which outside projects = %q, %q, %v; want none", name, msgs, err)
	}
	seen := filepath.Join(w.dirs.TrustDir(), "seen")
	after := slices.DeleteFunc(tree(t, w.home), func(p string) bool {
		return p == parsed || p == seen || filepath.Dir(p) == seen
	})
	if !slices.Equal(before, after) {
		t.Errorf("Which changed the file system:\nbefore %q\nafter  %q", before, after)
	}

	// Export, by contrast, writes: the check above can see it.
	w.export(w.base, proj)
	if after := tree(t, w.home); slices.Equal(before, after) {
		t.Errorf("Export wrote nothing either: the check sees no writes")
	}
}
