package projectfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
)

// trustFixture is a private home with a project file, and a trust store.
type trustFixture struct {
	home  string
	trust Trust
}

func newTrustFixture(t *testing.T) *trustFixture {
	t.Helper()
	home := t.TempDir()
	// t.TempDir's parents are private to us; make sure the home is too, so
	// that only what a test loosens is loose.
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return &trustFixture{home: home, trust: Trust{Dir: filepath.Join(home, ".state", "trust")}}
}

// project writes a project file in home/rel and returns its real path and content.
func (fx *trustFixture) project(t *testing.T, rel, content string) (string, []byte) {
	t.Helper()
	p := filepath.Join(fx.home, rel, Name)
	write(t, p, content)
	real, err := RealPath(p)
	if err != nil {
		t.Fatal(err)
	}
	return real, []byte(content)
}

func (fx *trustFixture) check(t *testing.T, real string, content []byte, tps []string, want Verdict) {
	t.Helper()
	if got := fx.trust.Check(real, real, content, tps); got != want {
		t.Fatalf("Check(%s) = %v, want %v", real, got, want)
	}
}

func TestTrustAllowDeny(t *testing.T) {
	fx := newTrustFixture(t)
	real, v1 := fx.project(t, "proj", "account = \"work\"\n")
	v2 := []byte("account = \"play\"\n")

	fx.check(t, real, v1, nil, Untrusted)

	if err := fx.trust.Allow(real, real, v1); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v1, nil, Allowed)
	// The record holds the real path, for listing, and is private.
	data, err := os.ReadFile(fx.trust.AllowRecord(real, real, v1))
	if err != nil || string(data) != real+"\n"+real+"\n" {
		t.Fatalf("allow record = %q, %v", data, err)
	}
	fi, err := os.Stat(filepath.Dir(fx.trust.AllowRecord(real, real, v1)))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("allow dir mode: %v %v", fi.Mode(), err)
	}

	// Editing revokes the allow; editing back restores it.
	fx.check(t, real, v2, nil, Untrusted)
	fx.check(t, real, v1, nil, Allowed)
	// The same content at another path is not allowed.
	other, _ := fx.project(t, "other", string(v1))
	fx.check(t, other, v1, nil, Untrusted)

	// Deny beats the allow and survives every edit.
	if err := fx.trust.Deny(real, real, v1); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v1, nil, Denied)
	fx.check(t, real, v2, nil, Denied)
	fx.check(t, real, []byte(""), nil, Denied)
	if _, err := os.Stat(fx.trust.AllowRecord(real, real, v1)); !os.IsNotExist(err) {
		t.Fatalf("deny kept the allow record: %v", err)
	}
	// Even a trusted path does not lift a deny.
	fx.check(t, real, v2, []string{fx.home}, Denied)
	// Other files are not affected.
	fx.check(t, other, v1, nil, Untrusted)

	// Allow lifts the deny, for the content allowed.
	if err := fx.trust.Allow(real, real, v2); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v2, nil, Allowed)
	fx.check(t, real, v1, nil, Untrusted)

	// Deny without content; allowing twice is harmless.
	if err := fx.trust.Deny(real, real, nil); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v2, nil, Denied)
	for range 2 {
		if err := fx.trust.Allow(real, real, v2); err != nil {
			t.Fatal(err)
		}
	}
	fx.check(t, real, v2, nil, Allowed)
}

func TestTrustRecordsDiffer(t *testing.T) {
	tr := Trust{Dir: "/s"}
	// The parts are kept apart: paths may hold "\n" (but never NUL), so
	// "/a" + "b\n..." is not "/a\nb" + "...".
	if tr.AllowRecord("/f", "/a", []byte("b")) == tr.AllowRecord("/f", "/ab", nil) {
		t.Fatal("allow records collide")
	}
	if tr.AllowRecord("/f", "/a\nb", []byte("c")) == tr.AllowRecord("/f", "/a", []byte("b\nc")) {
		t.Fatal("allow records collide across a newline")
	}
	if tr.AllowRecord("/f\n/r", "/x", nil) == tr.AllowRecord("/f", "/r\n/x", nil) {
		t.Fatal("allow records collide between the found and the real path")
	}
	if tr.AllowRecord("/f", "/a", []byte("x")) == tr.AllowRecord("/f", "/a", []byte("y")) {
		t.Fatal("allow records ignore content")
	}
	// The path found counts, not only where the file really is.
	if tr.AllowRecord("/clone/f", "/proj/f", []byte("x")) == tr.AllowRecord("/proj/f", "/proj/f", []byte("x")) {
		t.Fatal("allow records ignore the path found")
	}
	if tr.DenyRecord("/a") == tr.DenyRecord("/b") {
		t.Fatal("deny records collide")
	}
	// Unclean spellings of one path are one path.
	if tr.DenyRecord("/a/./b") != tr.DenyRecord("/a/b") || tr.AllowRecord("/a//b", "/r", nil) != tr.AllowRecord("/a/b", "/r", nil) {
		t.Fatal("records depend on how the path is spelled")
	}
	if filepath.Dir(tr.AllowRecord("/f", "/a", nil)) != "/s/allow" || filepath.Dir(tr.DenyRecord("/a")) != "/s/deny" {
		t.Fatal("records outside their directories")
	}
}

func TestTrustedPaths(t *testing.T) {
	fx := newTrustFixture(t)
	work := filepath.Join(fx.home, "work")
	real, c := fx.project(t, "work/deep/er/proj", "account = \"work\"\n")
	top, ctop := fx.project(t, "work", "account = \"work\"\n")
	outside, cout := fx.project(t, "workshop/proj", "account = \"work\"\n")

	fx.check(t, real, c, nil, Untrusted)
	fx.check(t, real, c, []string{work}, Trusted)
	fx.check(t, top, ctop, []string{work}, Trusted)
	fx.check(t, real, c, []string{"/nonexistent", work}, Trusted)
	// A sibling with the same prefix is not below it.
	fx.check(t, outside, cout, []string{work}, Untrusted)
	// A trusted path that does not exist trusts nothing.
	fx.check(t, real, c, []string{filepath.Join(fx.home, "gone")}, Untrusted)
	// An allow record wins over trust by path (it is what the user said).
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, c, []string{work}, Allowed)
	// A denied file is never trusted by path.
	if err := fx.trust.Deny(top, top, nil); err != nil {
		t.Fatal(err)
	}
	fx.check(t, top, ctop, []string{work}, Denied)
}

func TestTrustedPathsRefuseLooseDirectories(t *testing.T) {
	if os.Getuid() == 0 {
		t.Log("running as root: permission bits still decide here")
	}
	fx := newTrustFixture(t)
	work := filepath.Join(fx.home, "work")
	tps := []string{work}

	shared, cs := fx.project(t, "work/shared", "account = \"work\"\n")
	fx.check(t, shared, cs, tps, Trusted)
	for _, mode := range []os.FileMode{0o777, 0o775, 0o1777, 0o757} {
		if err := os.Chmod(filepath.Dir(shared), mode); err != nil {
			t.Fatal(err)
		}
		fx.check(t, shared, cs, tps, Untrusted)
	}
	if err := os.Chmod(filepath.Dir(shared), 0o755); err != nil {
		t.Fatal(err)
	}
	fx.check(t, shared, cs, tps, Trusted)

	// The file itself writable by others.
	if err := os.Chmod(shared, 0o666); err != nil {
		t.Fatal(err)
	}
	fx.check(t, shared, cs, tps, Untrusted)
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}

	// An explicit allow still applies in a loose directory: the user looked
	// at that content.
	if err := os.Chmod(filepath.Dir(shared), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := fx.trust.Allow(shared, shared, cs); err != nil {
		t.Fatal(err)
	}
	fx.check(t, shared, cs, tps, Allowed)
}

func TestRealPath(t *testing.T) {
	fx := newTrustFixture(t)
	real, _ := fx.project(t, "real/proj", "account = \"work\"\n")
	link := filepath.Join(fx.home, "link")
	if err := os.Symlink(filepath.Join(fx.home, "real"), link); err != nil {
		t.Fatal(err)
	}
	viaLink := filepath.Join(link, "proj", Name)
	if rl, err := RealPath(viaLink); err != nil || rl != real {
		t.Fatalf("RealPath(%s) = %s, %v; want %s", viaLink, rl, err, real)
	}
	// A relative path is made absolute.
	t.Chdir(filepath.Join(link, "proj"))
	if rr, err := RealPath(Name); err != nil || rr != real {
		t.Fatalf("RealPath(relative) = %s, %v", rr, err)
	}
	if _, err := RealPath(filepath.Join(fx.home, "missing", Name)); err == nil {
		t.Fatal("RealPath of a missing file: no error")
	}
}

// judge is Trust.Judge with the account work's trusted paths tps (and no
// other account).
func (fx *trustFixture) judge(t *testing.T, found string, tps ...string) *Judgement {
	t.Helper()
	j, err := fx.trust.Judge(found, func(name string) ([]string, error) {
		if name != "work" {
			return nil, fmt.Errorf("no account %q", name)
		}
		return tps, nil
	})
	if err != nil {
		t.Fatalf("Judge(%s): %v", found, err)
	}
	return j
}

func (fx *trustFixture) wantJudged(t *testing.T, found string, want Verdict, tps ...string) {
	t.Helper()
	if j := fx.judge(t, found, tps...); j.Verdict != want {
		t.Fatalf("Judge(%s) = %v, want %v", found, j.Verdict, want)
	}
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// TestLinksJudgedOnTheirOwn: a link to an allowed project file (as a
// cloned repository may carry one: ../proj/.opencode-account.toml), or an
// allowed file reached through a linked directory, is allowed or denied on
// its own. (Trust used to be keyed by the real path alone: the link applied
// the account where nothing was allowed, and `oca deny` through it denied
// the real project.)
func TestLinksJudgedOnTheirOwn(t *testing.T) {
	fx := newTrustFixture(t)
	real, c := fx.project(t, "proj", "account = \"work\"\n")
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	fx.wantJudged(t, real, Allowed)

	clone := symlink(t, filepath.Join("..", "proj", Name), filepath.Join(fx.home, "clone", Name))
	j := fx.judge(t, clone)
	if j.Verdict != Untrusted || j.Real != real || j.File.Account != "work" || j.File.Path != clone {
		t.Fatalf("link to an allowed file: %+v, want untrusted, real %s", j, real)
	}
	if j.Allow == fx.trust.AllowRecord(real, real, c) {
		t.Fatal("the link's allow record is the real file's")
	}

	// Denying the link leaves the project allowed; allowing the link
	// allows the link alone.
	if err := fx.trust.Deny(clone, real, c); err != nil {
		t.Fatal(err)
	}
	fx.wantJudged(t, clone, Denied)
	fx.wantJudged(t, real, Allowed)
	if err := fx.trust.Allow(clone, real, c); err != nil {
		t.Fatal(err)
	}
	fx.wantJudged(t, clone, Allowed)
	// Denying the project leaves the link as the user said.
	if err := fx.trust.Deny(real, real, c); err != nil {
		t.Fatal(err)
	}
	fx.wantJudged(t, real, Denied)
	fx.wantJudged(t, clone, Allowed)

	// The link pointed elsewhere, at the same content: not allowed there.
	other, _ := fx.project(t, "other", string(c))
	if err := os.Remove(clone); err != nil {
		t.Fatal(err)
	}
	symlink(t, other, clone)
	fx.wantJudged(t, clone, Untrusted)

	// An allowed file reached through a linked directory.
	fx2 := newTrustFixture(t)
	real2, c2 := fx2.project(t, "code/proj", "account = \"work\"\n")
	if err := fx2.trust.Allow(real2, real2, c2); err != nil {
		t.Fatal(err)
	}
	viaDir := filepath.Join(symlink(t, filepath.Join(fx2.home, "code", "proj"), filepath.Join(fx2.home, "sub")), Name)
	fx2.wantJudged(t, viaDir, Untrusted)
	if err := fx2.trust.Allow(viaDir, real2, c2); err != nil {
		t.Fatal(err)
	}
	fx2.wantJudged(t, viaDir, Allowed)
	fx2.wantJudged(t, real2, Allowed)
}

// TestTrustedPathsJudgeTheLinkToo: a trusted path trusts a file below it
// where it was found and where it really is; a link from elsewhere into it,
// or from it to elsewhere, is not trusted by path.
func TestTrustedPathsJudgeTheLinkToo(t *testing.T) {
	fx := newTrustFixture(t)
	work := filepath.Join(fx.home, "work")
	inside, _ := fx.project(t, "work/proj", "account = \"work\"\n")
	outside, _ := fx.project(t, "personal/proj", "account = \"work\"\n")
	fx.wantJudged(t, inside, Trusted, work)
	fx.wantJudged(t, outside, Untrusted, work)

	// A repository cloned elsewhere links into the trusted tree.
	fx.wantJudged(t, symlink(t, inside, filepath.Join(fx.home, "clone", Name)), Untrusted, work)
	// A repository cloned into the trusted tree links out of it.
	fx.wantJudged(t, symlink(t, outside, filepath.Join(work, "clone", Name)), Untrusted, work)
	// A link within the trusted tree, to a file within it.
	fx.wantJudged(t, symlink(t, filepath.Join("..", "proj", Name), filepath.Join(work, "alias", Name)), Trusted, work)
	// A trusted path given through a link trusts what is below its target,
	// found there through it or not.
	wl := symlink(t, work, filepath.Join(fx.home, "wl"))
	fx.wantJudged(t, inside, Trusted, wl)
	fx.wantJudged(t, filepath.Join(wl, "proj", Name), Trusted, wl)
	fx.wantJudged(t, filepath.Join(wl, "proj", Name), Trusted, work)
}

// TestLegacyAllowRecords: allow records of oca before links were judged on
// their own (sha256(real path + "\n" + content)) keep a file found by its
// real path allowed, and are replaced by records of this version; through
// a link they allow nothing, and the message says why oca asks again. Deny
// records of that version were named as this one's for a file found by its
// real path, so they still deny it.
func TestLegacyAllowRecords(t *testing.T) {
	fx := newTrustFixture(t)
	real, c := fx.project(t, "proj", "account = \"work\"\n")
	legacy := fx.trust.legacyAllowRecord(real, c)
	if legacy != filepath.Join(fx.trust.Dir, "allow", digest([]byte(real+"\n"+string(c)))) {
		t.Fatalf("legacy record %s is not sha256(real + \"\\n\" + content)", legacy)
	}
	write(t, legacy, real+"\n")

	link := symlink(t, real, filepath.Join(fx.home, "clone", Name))
	if j := fx.judge(t, link); j.Verdict != Untrusted || !j.LinkAllowedBefore {
		t.Fatalf("link to a file allowed by an earlier oca: %+v", j)
	}
	if !exists(legacy) {
		t.Fatal("judging a link took the legacy record away")
	}

	if j := fx.judge(t, real); j.Verdict != Allowed || j.LinkAllowedBefore {
		t.Fatalf("file allowed by an earlier oca, found where it is: %+v", j)
	}
	if exists(legacy) || !exists(fx.trust.AllowRecord(real, real, c)) {
		t.Fatal("the legacy record was not replaced")
	}
	fx.wantJudged(t, real, Allowed)
	// An edit revokes it, as before.
	fx.check(t, real, []byte("account = \"work\" # edited\n"), nil, Untrusted)

	// An old deny record, named by the real path.
	den, dc := fx.project(t, "denied", "account = \"work\"\n")
	write(t, filepath.Join(fx.trust.Dir, "deny", digest([]byte(den))), den+"\n")
	if err := fx.trust.Allow(den, den, dc); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(fx.trust.Dir, "deny", digest([]byte(den))), den+"\n")
	fx.wantJudged(t, den, Denied)
}

func TestVerdictString(t *testing.T) {
	for v, s := range map[Verdict]string{Untrusted: "untrusted", Allowed: "allowed", Trusted: "trusted", Denied: "denied"} {
		if v.String() != s {
			t.Errorf("%d.String() = %q", v, v.String())
		}
	}
}

// TestTrustStoreUnwritable: a store that refuses writes (its directory is a
// regular file's child, which refuses root too) makes Allow and Deny fail,
// and trusts nothing.
func TestTrustStoreUnwritable(t *testing.T) {
	fx := newTrustFixture(t)
	real, c := fx.project(t, "proj", "account = \"work\"\n")
	blocker := filepath.Join(fx.home, "not-a-dir")
	write(t, blocker, "")
	fx.trust = Trust{Dir: filepath.Join(blocker, "trust")}
	if err := fx.trust.Allow(real, real, c); err == nil {
		t.Fatal("Allow into a store that refuses writes: no error")
	}
	if err := fx.trust.Deny(real, real, nil); err == nil {
		t.Fatal("Deny into a store that refuses writes: no error")
	}
	fx.check(t, real, c, nil, Untrusted)
}

func TestTrustedPathsRefuseLooseAncestors(t *testing.T) {
	fx := newTrustFixture(t)
	work := filepath.Join(fx.home, "work")
	tps := []string{work}
	shared, cs := fx.project(t, "work/shared", "account = \"work\"\n")

	// A project deeper down in a directory others may write to: they can
	// replace the project directory, and the file with it.
	deep, cd := fx.project(t, "work/drop/proj", "account = \"work\"\n")
	fx.check(t, deep, cd, tps, Trusted)
	if err := os.Chmod(filepath.Join(work, "drop"), 0o777); err != nil {
		t.Fatal(err)
	}
	fx.check(t, deep, cd, tps, Untrusted)

	// The trusted directory itself loose.
	if err := os.Chmod(filepath.Join(work, "drop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(work, 0o777); err != nil {
		t.Fatal(err)
	}
	fx.check(t, deep, cd, tps, Untrusted)
	fx.check(t, shared, cs, tps, Untrusted)
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestTrustedPathsRefuseOtherUsers: below a trusted path, a file applies
// by path only when it, the link it was found as, and every directory from
// the trusted path down to it belong to the user (or root), whatever their
// modes. (Files and directories of other users used to be trusted: fixed.)
func TestTrustedPathsRefuseOtherUsers(t *testing.T) {
	uid := testsys.AddUser(t).UID
	fx := newTrustFixture(t)
	work := filepath.Join(fx.home, "work")
	tps := []string{work}
	chown := func(p string, id int) {
		t.Helper()
		if err := os.Lchown(p, id, -1); err != nil {
			t.Fatal(err)
		}
	}
	me := os.Getuid()

	p, _ := fx.project(t, "work/team/proj", "account = \"work\"\n")
	fx.wantJudged(t, p, Trusted, work)
	for _, rel := range []string{"work/team/proj/" + Name, "work/team/proj", "work/team", "work"} {
		chown(filepath.Join(fx.home, rel), uid)
		fx.wantJudged(t, p, Untrusted, work)
		chown(filepath.Join(fx.home, rel), me)
		fx.wantJudged(t, p, Trusted, work)
	}
	// Above the trusted path, ownership is not its business.
	chown(fx.home, uid)
	fx.wantJudged(t, p, Trusted, work)
	chown(fx.home, me)

	// A link another user owns, to a file of the user's own.
	link := symlink(t, p, filepath.Join(work, "alias", Name))
	fx.wantJudged(t, link, Trusted, tps...)
	chown(link, uid)
	fx.wantJudged(t, link, Untrusted, tps...)
	fx.wantJudged(t, p, Trusted, tps...)

	// The other user's file, even read-only (0444, a directory 0755), and
	// even when it really is that user's file the process opens as it.
	theirs, _ := fx.project(t, "work/theirs", "account = \"work\"\n")
	chown(theirs, uid)
	chown(filepath.Dir(theirs), uid)
	if err := os.Chmod(theirs, 0o444); err != nil {
		t.Fatal(err)
	}
	fx.wantJudged(t, theirs, Untrusted, work)
	// An explicit allow still applies: the user looked at that content.
	c, err := os.ReadFile(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.trust.Allow(theirs, theirs, c); err != nil {
		t.Fatal(err)
	}
	fx.wantJudged(t, theirs, Allowed, work)
}

// later is a clock for which every file is older than RacyWindow.
func later() time.Time { return time.Now().Add(time.Hour) }

// TestJudgeRecallsUnchangedFile: a file judged allowed or trusted once is
// judged again, while unchanged, without a read; the record of that is the
// user's own (not the shell's environment), bound to the file's stat
// signature and real path, and the deny and allow records and trusted paths
// are looked at again each time.
func TestJudgeRecallsUnchangedFile(t *testing.T) {
	fx := newTrustFixture(t)
	fx.trust.Now = later
	real, c := fx.project(t, "proj", "account = \"work\"\nautostart = false\n")
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	if j := fx.judge(t, real); j.Verdict != Allowed || j.Recalled {
		t.Fatalf("first: %+v", j)
	}
	j := fx.judge(t, real)
	if j.Verdict != Allowed || !j.Recalled || j.File.Account != "work" || j.File.Autostart || j.File.Path != real || j.Allow != fx.trust.AllowRecord(real, real, c) {
		t.Fatalf("unchanged: %+v %+v", j, j.File)
	}

	// Rewritten, same size, modification time put back: the change time
	// (which no one but root sets) tells it.
	fi, err := os.Stat(real)
	if err != nil {
		t.Fatal(err)
	}
	c2 := []byte("account = \"play\"\nautostart = false\n")[:len(c)]
	if err := os.WriteFile(real, c2, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(real, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.trust.Judge(real, func(string) ([]string, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	j2, err := fx.trust.Judge(real, func(string) ([]string, error) { return nil, nil })
	if err != nil || j2.Verdict != Untrusted || j2.Recalled {
		t.Fatalf("rewritten with the old mtime: %+v, %v", j2, err)
	}

	// Put back: recalled again; then denied, revoked, or trusted no more.
	if err := os.WriteFile(real, c, 0o644); err != nil {
		t.Fatal(err)
	}
	fx.judge(t, real)
	if j := fx.judge(t, real); !j.Recalled {
		t.Fatalf("put back: %+v", j)
	}
	if err := fx.trust.Deny(real, real, nil); err != nil {
		t.Fatal(err)
	}
	if j := fx.judge(t, real); j.Verdict != Denied || j.Recalled {
		t.Fatalf("denied: %+v", j)
	}
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	fx.judge(t, real)
	if err := os.Remove(fx.trust.AllowRecord(real, real, c)); err != nil {
		t.Fatal(err)
	}
	if j := fx.judge(t, real); j.Verdict != Untrusted || j.Recalled {
		t.Fatalf("revoked: %+v", j)
	}
	work := fx.home
	if j := fx.judge(t, real, work); j.Verdict != Trusted {
		t.Fatalf("trusted: %+v", j)
	}
	if j := fx.judge(t, real, work); j.Verdict != Trusted || !j.Recalled {
		t.Fatalf("trusted, unchanged: %+v", j)
	}
	if j := fx.judge(t, real); j.Verdict != Untrusted || j.Recalled {
		t.Fatalf("trusted no more: %+v", j)
	}
	// An account the user no longer has: read, and the error says so.
	fx.judge(t, real, work)
	if _, err := fx.trust.Judge(real, func(n string) ([]string, error) { return nil, fmt.Errorf("no account %q", n) }); err == nil || !strings.Contains(err.Error(), `no account "work"`) {
		t.Fatalf("unknown account: %v", err)
	}

	// Another path to the same file has a record of its own.
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	fx.judge(t, real)
	if j := fx.judge(t, real); !j.Recalled {
		t.Fatalf("allowed again: %+v", j)
	}
	link := symlink(t, real, filepath.Join(fx.home, "link", Name))
	if j := fx.judge(t, link); j.Verdict != Untrusted || j.Recalled {
		t.Fatalf("link: %+v", j)
	}
}

// TestJudgeRereadsRecentFiles: a file changed within the racy window of
// its filesystem is read every time (a write in the same clock tick could
// leave its signature as it was); that window is 2 s but on the local
// filesystems known to stamp times to the nanosecond, such as ext4 and
// tmpfs, where it is FineRacyWindow.
func TestJudgeRereadsRecentFiles(t *testing.T) {
	fx := newTrustFixture(t)
	real, c := fx.project(t, "proj", "account = \"work\"\n")
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		t.Fatal(err)
	}
	window := RacyWindowOf(real)
	// The clock oca reads before it looks at the file, just within the
	// window of the file's last change (its change time is no earlier
	// than its modification time).
	fx.trust.Now = func() time.Time { return fi.ModTime().Add(window - time.Millisecond) }
	for range 3 {
		if j := fx.judge(t, real); j.Verdict != Allowed || j.Recalled {
			t.Fatalf("recent file: %+v", j)
		}
	}
	// Its record has no signature: it spares the parse of this content,
	// not the read.
	m, ok := fx.trust.readMemo(real)
	if !ok || m.Sig != "" || m.Account != "work" || filepath.Join(fx.trust.Dir, "allow", m.Allow) != fx.trust.AllowRecord(real, real, c) {
		t.Fatalf("the record of a recent file: %+v, %v", m, ok)
	}
	// The content it names is not parsed again: a record that says
	// autostart = false for it (which no check writes) is what is judged.
	m.Autostart = false
	if err := writeRecord(fx.trust.memoPath(real), m.encode()); err != nil {
		t.Fatal(err)
	}
	if j := fx.judge(t, real); j.File.Autostart || j.Verdict != Allowed || j.Recalled {
		t.Fatalf("recent file, recorded content: %+v", j)
	}
	// Other content is parsed: the record names the allow record of the
	// content it was of.
	c = []byte("account = \"work\"\nautostart = true\n")
	write(t, real, string(c))
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	if fi, err = os.Stat(real); err != nil {
		t.Fatal(err)
	}
	if j := fx.judge(t, real); !j.File.Autostart || j.Verdict != Allowed || j.Recalled {
		t.Fatalf("recent file, new content: %+v", j)
	}
	// Past the window of this filesystem, the record is kept.
	ctime := time.Unix(fi.Sys().(*syscall.Stat_t).Ctim.Unix())
	fx.trust.Now = func() time.Time { return ctime.Add(window + time.Millisecond) }
	fx.judge(t, real)
	if j := fx.judge(t, real); !j.Recalled {
		t.Fatalf("older than %v: %+v", window, j)
	}

	// The filesystems whose times this kernel's clock stamps to the
	// nanosecond have the short window (the test's temporary directory is
	// on ext4 or tmpfs on the machines the suite runs on); any other (FAT,
	// NFS, FUSE, ...), or a path statfs cannot answer for, the 2 s one.
	for magic, want := range map[int64]time.Duration{
		0xEF53: FineRacyWindow, 0x01021994: FineRacyWindow, 0x9123683E: FineRacyWindow, 0x58465342: FineRacyWindow,
		0x4D44: RacyWindow /* msdos, vfat */, 0x2011BAB0: RacyWindow /* exfat */, 0x6969: RacyWindow, /* nfs */
		0x65735546: RacyWindow /* fuse */, 0xFE534D42: RacyWindow, /* smb2 */
	} {
		if got := racyWindow(magic); got != want {
			t.Errorf("racyWindow(%#x) = %v, want %v", magic, got, want)
		}
	}
	if got := RacyWindowOf(t.TempDir()); got != FineRacyWindow {
		t.Errorf("the test's temporary directory: %v, want %v (not ext4 or tmpfs?)", got, FineRacyWindow)
	}
	if got := RacyWindowOf(filepath.Join(t.TempDir(), "missing")); got != RacyWindow {
		t.Errorf("a missing path: %v, want %v", got, RacyWindow)
	}
}

// TestJudgeIgnoresBadRecords: a record of the last check that is not what
// oca writes is not used: the file is read and judged, and the record
// written anew.
func TestJudgeIgnoresBadRecords(t *testing.T) {
	fx := newTrustFixture(t)
	fx.trust.Now = later
	real, c := fx.project(t, "proj", "account = \"work\"\n")
	if err := fx.trust.Allow(real, real, c); err != nil {
		t.Fatal(err)
	}
	fx.judge(t, real)
	good, err := os.ReadFile(fx.trust.memoPath(real))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := decodeMemo(good)
	if !ok || m.Real != real || m.Account != "work" || !m.Autostart || filepath.Join(fx.trust.Dir, "allow", m.Allow) != fx.trust.AllowRecord(real, real, c) {
		t.Fatalf("record %q: %+v, %v", good, m, ok)
	}
	field := func(i int, v string) string {
		f := strings.Split(string(good), "\x00")
		f[i] = v
		return strings.Join(f, "\x00")
	}
	for _, bad := range []string{
		"", "garbage", "\x00\x00\x00\x00\x00\x00",
		strings.TrimSuffix(string(good), "\x00"),
		string(good) + "extra\x00",
		field(0, "oca-seen-2"),
		field(1, ""),
		field(2, "relative/path"),
		field(2, "/elsewhere"+real),
		field(3, "../x"),
		field(4, "maybe"),
		field(5, "../"+m.Allow[3:]),
		field(5, m.Allow[:63]),
		string(good) + strings.Repeat("x", maxMemo),
	} {
		write(t, fx.trust.memoPath(real), bad)
		if j := fx.judge(t, real); j.Verdict != Allowed || j.Recalled {
			t.Fatalf("record %q: %+v", bad, j)
		}
		if again, err := os.ReadFile(fx.trust.memoPath(real)); err != nil || string(again) != string(good) {
			t.Fatalf("record %q not written anew: %q, %v", bad, again, err)
		}
	}
	if j := fx.judge(t, real); !j.Recalled {
		t.Fatalf("good record: %+v", j)
	}
}

// TestReadRefusesEndlessFiles: a project file replaced by a FIFO, a link
// to one, or a link to a device is refused at once, without waiting for a
// writer or reading without end. (A FIFO put in its place after Find saw a
// regular file hung `oca export`, and the prompt with it: fixed.)
func TestReadRefusesEndlessFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, want string }{
		{fifo, "is a FIFO, not a regular file"},
		{"/dev/zero", "is a device, not a regular file"},
		{dir, "is a directory, not a regular file"},
	} {
		p := filepath.Join(t.TempDir(), Name)
		if err := os.Symlink(tc.target, p); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, _, err := ReadStat(p)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadStat(link to %s) = %v, want %q", tc.target, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			// Unblock the reader so that the test can end.
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			t.Fatalf("ReadStat(link to %s) still waits after 10 s", tc.target)
		}
	}
}
