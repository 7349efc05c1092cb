package projectfile

import (
	"os"
	"path/filepath"
	"testing"
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
	if got := fx.trust.Check(real, content, tps); got != want {
		t.Fatalf("Check(%s) = %v, want %v", real, got, want)
	}
}

func TestTrustAllowDeny(t *testing.T) {
	fx := newTrustFixture(t)
	real, v1 := fx.project(t, "proj", "account = \"work\"\n")
	v2 := []byte("account = \"play\"\n")

	fx.check(t, real, v1, nil, Untrusted)

	if err := fx.trust.Allow(real, v1); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v1, nil, Allowed)
	// The record holds the real path, for listing, and is private.
	data, err := os.ReadFile(fx.trust.AllowRecord(real, v1))
	if err != nil || string(data) != real+"\n" {
		t.Fatalf("allow record = %q, %v", data, err)
	}
	fi, err := os.Stat(filepath.Dir(fx.trust.AllowRecord(real, v1)))
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
	if err := fx.trust.Deny(real, v1); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v1, nil, Denied)
	fx.check(t, real, v2, nil, Denied)
	fx.check(t, real, []byte(""), nil, Denied)
	if _, err := os.Stat(fx.trust.AllowRecord(real, v1)); !os.IsNotExist(err) {
		t.Fatalf("deny kept the allow record: %v", err)
	}
	// Even a trusted path does not lift a deny.
	fx.check(t, real, v2, []string{fx.home}, Denied)
	// Other files are not affected.
	fx.check(t, other, v1, nil, Untrusted)

	// Allow lifts the deny, for the content allowed.
	if err := fx.trust.Allow(real, v2); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v2, nil, Allowed)
	fx.check(t, real, v1, nil, Untrusted)

	// Deny without content; allowing twice is harmless.
	if err := fx.trust.Deny(real, nil); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, v2, nil, Denied)
	for range 2 {
		if err := fx.trust.Allow(real, v2); err != nil {
			t.Fatal(err)
		}
	}
	fx.check(t, real, v2, nil, Allowed)
}

func TestTrustRecordsDiffer(t *testing.T) {
	tr := Trust{Dir: "/s"}
	// The path and content are separated: "/a" + "b\n..." is not "/ab" + "\n...".
	if tr.AllowRecord("/a", []byte("b")) == tr.AllowRecord("/ab", nil) {
		t.Fatal("allow records collide")
	}
	if tr.AllowRecord("/a", []byte("x")) == tr.AllowRecord("/a", []byte("y")) {
		t.Fatal("allow records ignore content")
	}
	if tr.DenyRecord("/a") == tr.DenyRecord("/b") {
		t.Fatal("deny records collide")
	}
	if filepath.Dir(tr.AllowRecord("/a", nil)) != "/s/allow" || filepath.Dir(tr.DenyRecord("/a")) != "/s/deny" {
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
	if err := fx.trust.Allow(real, c); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, c, []string{work}, Allowed)
	// A denied file is never trusted by path.
	if err := fx.trust.Deny(top, nil); err != nil {
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
	if err := fx.trust.Allow(shared, cs); err != nil {
		t.Fatal(err)
	}
	fx.check(t, shared, cs, tps, Allowed)
}

func TestRealPathSymlinks(t *testing.T) {
	fx := newTrustFixture(t)
	real, c := fx.project(t, "real/proj", "account = \"work\"\n")
	link := filepath.Join(fx.home, "link")
	if err := os.Symlink(filepath.Join(fx.home, "real"), link); err != nil {
		t.Fatal(err)
	}
	viaLink := filepath.Join(link, "proj", Name)
	rl, err := RealPath(viaLink)
	if err != nil {
		t.Fatal(err)
	}
	if rl != real {
		t.Fatalf("RealPath(%s) = %s, want %s", viaLink, rl, real)
	}
	// A relative path is made absolute.
	t.Chdir(filepath.Join(link, "proj"))
	if rr, err := RealPath(Name); err != nil || rr != real {
		t.Fatalf("RealPath(relative) = %s, %v", rr, err)
	}
	if _, err := RealPath(filepath.Join(fx.home, "missing", Name)); err == nil {
		t.Fatal("RealPath of a missing file: no error")
	}

	// Allow through the link, check through the real path: same verdict.
	if err := fx.trust.Allow(rl, c); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real, c, nil, Allowed)
	// Deny through the real path, check through the link.
	if err := fx.trust.Deny(real, nil); err != nil {
		t.Fatal(err)
	}
	fx.check(t, rl, c, nil, Denied)

	// A symlinked project file is keyed by its target.
	real2, c2 := fx.project(t, "store", "account = \"work\"\n")
	if err := os.MkdirAll(filepath.Join(fx.home, "p2"), 0o755); err != nil {
		t.Fatal(err)
	}
	fl := filepath.Join(fx.home, "p2", Name)
	if err := os.Symlink(real2, fl); err != nil {
		t.Fatal(err)
	}
	r2, err := RealPath(fl)
	if err != nil || r2 != real2 {
		t.Fatalf("RealPath(file link) = %s, %v", r2, err)
	}
	if err := fx.trust.Allow(r2, c2); err != nil {
		t.Fatal(err)
	}
	fx.check(t, real2, c2, nil, Allowed)

	// A trusted path given through a symlink trusts the files below its
	// target, and a file reached through a link is judged where it is.
	fx2 := newTrustFixture(t)
	treal, tc := fx2.project(t, "code/proj", "account = \"work\"\n")
	tlink := filepath.Join(fx2.home, "work")
	if err := os.Symlink(filepath.Join(fx2.home, "code"), tlink); err != nil {
		t.Fatal(err)
	}
	fx2.check(t, treal, tc, []string{tlink}, Trusted)
	fx2.check(t, treal, tc, []string{filepath.Join(fx2.home, "code")}, Trusted)
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
	if err := fx.trust.Allow(real, c); err == nil {
		t.Fatal("Allow into a store that refuses writes: no error")
	}
	if err := fx.trust.Deny(real, nil); err == nil {
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
