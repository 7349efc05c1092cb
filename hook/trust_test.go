package hook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/projectfile"
)

// forge hand-makes the __OCA_STATE a shell inside a bound project would
// carry, claiming that the project file at path was checked for account
// acct and allowed by the record allow, with the file's stat signature as
// oca before this version recorded it (inode, size, mtime).
func forge(t *testing.T, genuine string, path, acct, allow string) string {
	t.Helper()
	st, err := DecodeState(genuine)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]any{
		"v": stateVersion, "account": acct, "file": path,
		"sig":   fmt.Sprintf("%d:%d:%d", fi.Sys().(*syscall.Stat_t).Ino, fi.Size(), fi.ModTime().UnixNano()),
		"allow": allow, "prev": st.Prev, "applied": st.Applied, "pid": st.PID,
	}
	return encodeRaw(raw)
}

// TestForgedStateCannotSkipTrust: an __OCA_STATE made by hand that names
// an untrusted project file, with its stat signature, and another
// project's allow record (or none, claiming trust by path) binds nothing:
// the trust decision is Trust.Judge's, from the user's own records, and the
// state is not one of them. (Such a state used to bind the account it
// named without reading the file: fixed.)
func TestForgedStateCannotSkipTrust(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	inside, _ := w.cd(w.base, proj)
	w.wantBound(inside, "work")
	records, err := filepath.Glob(filepath.Join(w.dirs.TrustDir(), "allow", "*"))
	if err != nil || len(records) != 1 {
		t.Fatalf("allow records %v, %v: want proj's alone", records, err)
	}

	evil := w.write("evil/"+projectfile.Name, "account = \"work\"\n")
	// Below work's trusted path, naming another account.
	other := w.write("trusted/other/"+projectfile.Name, "account = \"play\"\n")
	for _, tc := range []struct {
		name, path, acct, allow string
	}{
		{"another project's allow record", evil, "work", records[0]},
		{"trust by another account's path", other, "work", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(inside)
			env[StateVar] = forge(t, inside[StateVar], tc.path, tc.acct, tc.allow)
			for range 2 {
				next, out := w.cd(env, filepath.Dir(tc.path))
				if out.Account != "" || out.Left != "work" {
					t.Fatalf("forged state bound %q: %+v", out.Account, out)
				}
				wantMessage(t, out, tc.path, "oca allow")
				wantEnv(t, next, w.base)
			}
		})
	}
}

// TestLinkToAllowedFileIsNotAllowed: a project file that is a link to an
// allowed one (a cloned repository may carry ../proj/.opencode-account.toml)
// asks before it applies, and denying it leaves the project it leads to
// allowed. (It used to apply at once, and a deny through it denied the
// project: fixed.)
func TestLinkToAllowedFileIsNotAllowed(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	clone := w.mkdir("clone")
	link := filepath.Join(clone, projectfile.Name)
	if err := os.Symlink(filepath.Join("..", "proj", projectfile.Name), link); err != nil {
		t.Fatal(err)
	}
	env, out := w.cd(w.base, clone)
	wantMessage(t, out, link, "wants account work", "oca allow "+clone)
	wantEnv(t, env, w.base)

	trust := projectfile.Trust{Dir: w.dirs.TrustDir()}
	if err := trust.Deny(link, "", nil); err != nil {
		t.Fatal(err)
	}
	env, out = w.cd(w.base, clone)
	wantMessage(t, out, link, "denied")
	env, _ = w.cd(env, proj)
	w.wantBound(env, "work")

	w.allow(link)
	env, _ = w.cd(w.base, clone)
	w.wantBound(env, "work")
}

// TestRecalledFileKeepsAutostart: a new shell (a tmux pane) that inherits
// a project's state, in a project file judged before and unchanged since,
// gets the file's autostart, not false. (The fast path that skipped the
// read used to start no server for such a shell: fixed.)
func TestRecalledFileKeepsAutostart(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	p := filepath.Join(proj, projectfile.Name)
	// Until the file is older than the racy window, it is read every time.
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(fi.ModTime().Add(projectfile.RacyWindowOf(p) + 100*time.Millisecond)))

	var got []bool
	in := func(env Env, pid int) Input {
		return Input{Env: env, PWD: proj, PID: pid, OnEnter: func(_ account.Dirs, _ *account.Account, f *projectfile.File, _ int) error {
			got = append(got, f.Autostart)
			return nil
		}}
	}
	out, err := Export(in(w.base, 100))
	if err != nil {
		t.Fatal(err)
	}
	memos, _ := filepath.Glob(filepath.Join(w.dirs.TrustDir(), "seen", "*"))
	if len(memos) != 1 {
		t.Fatalf("records of checks: %v, want one", memos)
	}
	env := applyChanges(w.base, out)
	if _, err := Export(in(env, 101)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0] || !got[1] {
		t.Fatalf("autostart seen by OnEnter: %v, want [true true]", got)
	}
}

// TestLegacyAllowSaysWhyItAsks: a link to a file that an earlier oca
// allowed (by its real path alone) asks again, and says why; the file found
// where it is stays allowed.
func TestLegacyAllowSaysWhyItAsks(t *testing.T) {
	w := newWorld(t)
	p := w.write("proj/"+projectfile.Name, "account = \"work\"\n")
	sum := sha256.Sum256([]byte(p + "\n" + "account = \"work\"\n"))
	w.write(filepath.Join(".local/state/oca/trust/allow", hex.EncodeToString(sum[:])), p+"\n")
	link := filepath.Join(w.mkdir("clone"), projectfile.Name)
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	_, out := w.cd(w.base, filepath.Dir(link))
	wantMessage(t, out, link+" leads to "+p+", which an earlier oca allowed wherever it was found; links are now allowed on their own: if you trust this one, run: oca allow "+filepath.Dir(link))
	env, out := w.cd(w.base, filepath.Dir(p))
	w.wantBound(env, "work")
	if len(out.Messages) != 0 {
		t.Fatalf("messages: %q", out.Messages)
	}
}
