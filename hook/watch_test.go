package hook

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oca-sh/oca/projectfile"
)

// changed is what the shell's __oca_stale decides for one watch, with test
// builtins alone: [[ -e ]] for the presence stamps, and
// [[ path -nt stamp || path -ot stamp ]] (mtimes differ) otherwise.
func changed(t *testing.T, w Watch) bool {
	t.Helper()
	_, err := os.Stat(w.Path)
	exists := err == nil
	switch w.Stamp {
	case Absent:
		return exists
	case Present:
		return !exists
	}
	pi, perr := os.Stat(w.Path)
	si, serr := os.Stat(w.Stamp)
	if perr != nil || serr != nil {
		// -nt is also true when only the path exists, -ot when only the
		// stamp does.
		return (perr == nil) != (serr == nil)
	}
	return !pi.ModTime().Equal(si.ModTime())
}

func anyChanged(t *testing.T, ws []Watch) []Watch {
	t.Helper()
	var out []Watch
	for _, w := range ws {
		if changed(t, w) {
			out = append(out, w)
		}
	}
	return out
}

func TestWatchProjectFileEdits(t *testing.T) {
	w := newWorld(t)
	proj := w.project("code/proj", "work")
	rel := "code/proj/" + projectfile.Name
	env, out := w.cd(w.base, proj)
	if c := anyChanged(t, out.Watch); len(c) != 0 {
		t.Fatalf("fresh watches report changes: %+v", c)
	}
	// The project file, the accounts file and the deny record are watched.
	var paths []string
	for _, x := range out.Watch {
		paths = append(paths, x.Path)
	}
	for _, want := range []string{w.path(rel), w.dirs.AccountsFile()} {
		found := false
		for _, p := range paths {
			found = found || p == want
		}
		if !found {
			t.Errorf("%s not watched: %v", want, paths)
		}
	}

	// An edit of the project file is seen.
	w.edit(rel, "account = \"work\"\nautostart = false\n")
	c := anyChanged(t, out.Watch)
	if len(c) != 1 || c[0].Path != w.path(rel) {
		t.Fatalf("after an edit: %+v", c)
	}
	// A run after it gives watches that see no change until the next edit.
	_, out2 := w.cd(env, proj)
	if c := anyChanged(t, out2.Watch); len(c) != 0 {
		t.Fatalf("watches after re-export report changes: %+v", c)
	}
	// Even an edit that keeps the size, and moves the mtime back.
	p := w.path(rel)
	if err := os.WriteFile(p, []byte("account = \"work\"\nautostart = falsE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(p, old, old)
	if c := anyChanged(t, out2.Watch); len(c) != 1 || c[0].Path != p {
		t.Fatalf("after an edit back in time: %+v", c)
	}

	// The accounts file.
	_, out3 := w.cd(env, proj)
	w.edit(".config/oca/accounts.toml", accountsTOML+"\n")
	if c := anyChanged(t, out3.Watch); len(c) != 1 || c[0].Path != w.dirs.AccountsFile() {
		t.Fatalf("after editing accounts: %+v", c)
	}

	// Deleting the project file.
	_, out4 := w.cd(env, proj)
	os.Remove(p)
	if c := anyChanged(t, out4.Watch); len(c) == 0 {
		t.Fatal("deleting the project file is not seen")
	}
}

func TestWatchCreatedProjectFile(t *testing.T) {
	w := newWorld(t)
	dir := w.mkdir("code/new/sub")
	_, out := w.cd(w.base, dir)
	// The shell itself looks upward for the nearest project file and asks
	// oca again when it differs from the one oca evaluated.
	if out.File != "" {
		t.Fatalf("File = %q outside any project", out.File)
	}
	if c := anyChanged(t, out.Watch); len(c) != 0 {
		t.Fatalf("changes before any: %+v", c)
	}
	w.project("code/new", "work")
	if near := projectfile.Find(dir); near != w.path("code/new/"+projectfile.Name) || near == out.File {
		t.Fatalf("creating a project file: nearest %q, evaluated %q", near, out.File)
	}
	env, out2 := w.cd(w.base, dir)
	w.wantBound(env, "work")
	if out2.File != w.path("code/new/"+projectfile.Name) {
		t.Errorf("File = %q", out2.File)
	}
}

func TestWatchUntrustedThenAllowed(t *testing.T) {
	w := newWorld(t)
	p := w.write("proj/"+projectfile.Name, "account = \"work\"\n")
	_, out := w.cd(w.base, w.path("proj"))
	if len(out.Messages) != 1 {
		t.Fatalf("messages %q", out.Messages)
	}
	if c := anyChanged(t, out.Watch); len(c) != 0 {
		t.Fatalf("changes before allow: %+v", c)
	}
	// `oca allow` makes the record the watch waits for.
	w.allow(p)
	if c := anyChanged(t, out.Watch); len(c) != 1 {
		t.Fatalf("allow not seen: %+v", c)
	}
	// And `oca deny` inside is seen too.
	env, out := w.cd(w.base, w.path("proj"))
	w.wantBound(env, "work")
	if err := (projectfile.Trust{Dir: w.dirs.TrustDir()}).Deny(p, "", nil); err != nil {
		t.Fatal(err)
	}
	if c := anyChanged(t, out.Watch); len(c) == 0 {
		t.Fatal("deny not seen")
	}
}

func TestStampsShared(t *testing.T) {
	dir := t.TempDir()
	s := stamper{dir: filepath.Join(dir, "stamps")}
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o644)
	w1, err := s.watch(f)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := s.watch(f)
	if err != nil || w1 != w2 {
		t.Fatalf("two watches of one version differ: %+v %+v %v", w1, w2, err)
	}
	// A new version gets a new stamp, and the old one goes.
	t2 := time.Date(2001, 1, 1, 0, 0, 0, 5, time.UTC)
	os.Chtimes(f, t2, t2)
	w3, err := s.watch(f)
	if err != nil || w3.Stamp == w1.Stamp {
		t.Fatalf("new version: %+v %v", w3, err)
	}
	if _, err := os.Stat(w1.Stamp); !os.IsNotExist(err) {
		t.Fatal("old stamp kept")
	}
	if changed(t, w3) {
		t.Fatal("fresh stamp reports a change")
	}
	if !changed(t, w1) {
		t.Fatal("a shell holding the old stamp sees no change")
	}
	wm, err := s.watch(filepath.Join(dir, "missing"))
	if err != nil || wm.Stamp != Absent {
		t.Fatalf("missing file: %+v %v", wm, err)
	}
}
