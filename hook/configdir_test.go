package hook

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// TestConfigDirEnteredAndLeft: inside a project the account's config dir is
// OPENCODE_CONFIG_DIR (made 0700 on entering when absent); leaving puts back
// the value that was there before, exactly.
func TestConfigDirEnteredAndLeft(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	base := maps.Clone(w.base)
	base["OPENCODE_CONFIG_DIR"] = "/the users own/config dir"
	env, _ := w.cd(base, proj)
	want := filepath.Join(w.home, ".config/oca/accounts/work")
	if env["OPENCODE_CONFIG_DIR"] != want {
		t.Fatalf("OPENCODE_CONFIG_DIR = %q, want %q", env["OPENCODE_CONFIG_DIR"], want)
	}
	if fi, err := os.Stat(want); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("config dir after entering: %v, %v", fi, err)
	}
	env, _ = w.cd(env, w.home)
	wantEnv(t, env, base)
}

// TestConfigDirNotADirectory: an account whose config dir is a link, a file
// or unreadable applies nothing: one message that names it; the link's
// target and the file stay as they were.
func TestConfigDirNotADirectory(t *testing.T) {
	for _, kind := range []string{"link", "file"} {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t)
			proj := w.project("proj", "work")
			cdir := filepath.Join(w.home, ".config/oca/accounts/work")
			os.MkdirAll(filepath.Dir(cdir), 0o700)
			elsewhere := w.mkdir("elsewhere")
			switch kind {
			case "link":
				if err := os.Symlink(elsewhere, cdir); err != nil {
					t.Fatal(err)
				}
			case "file":
				os.WriteFile(cdir, []byte("mine"), 0o600)
			}
			out := w.export(w.base, proj)
			wantNoChanges(t, out)
			wantMessage(t, out, "account work: config dir "+cdir+" is a ")
			if b, err := os.ReadFile(cdir); kind == "file" && (err != nil || string(b) != "mine") {
				t.Errorf("the file changed: %q %v", b, err)
			}
			if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
				t.Errorf("something was written through the link: %v", entries)
			}
			// Inside the project already: the shell keeps what it has.
			os.Remove(cdir)
			env, _ := w.cd(w.base, proj)
			before := maps.Clone(env)
			os.RemoveAll(cdir)
			os.Symlink(elsewhere, cdir)
			w.edit("proj/"+".opencode-account.toml", "account = \"work\"\n")
			w.allow(filepath.Join(proj, ".opencode-account.toml"))
			env, out = w.cd(env, proj)
			wantNoChanges(t, out)
			wantEnv(t, env, before)
		})
	}
}

// TestConfigDirOthersMayChange: an account whose config dir someone else
// could change (0777, below a 0777 directory, or another user's) applies
// nothing on entering: one message that names it, what is wrong and the
// mend; OPENCODE_CONFIG_DIR is not exported. Inside the project already,
// the shell keeps what it has; mended, entering applies the account.
func TestConfigDirOthersMayChange(t *testing.T) {
	for _, kind := range []string{"0777", "ancestor", "another user's"} {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t)
			proj := w.project("proj", "work")
			cdir := filepath.Join(w.home, ".config/oca/accounts/work")
			env, _ := w.cd(w.base, proj) // makes it, 0700
			w.wantBound(env, "work")
			inside := maps.Clone(env)
			env, _ = w.cd(env, w.home)
			wantEnv(t, env, w.base)

			var want string
			switch kind {
			case "0777":
				chmodT(t, cdir, 0o777)
				want = "account work: config dir " + cdir + " may be written by others (mode 0777): refusing it; mend with: chmod go-w " + cdir
			case "ancestor":
				chmodT(t, filepath.Dir(cdir), 0o777)
				want = "account work: config dir " + cdir + ": ancestor " + filepath.Dir(cdir) + " may be written by others (mode 0777): refusing it; mend with: chmod go-w " + filepath.Dir(cdir)
			case "another user's":
				u := testsys.AddUser(t)
				if err := os.Chown(cdir, u.UID, u.GID); err != nil {
					t.Fatal(err)
				}
				want = "account work: config dir " + cdir + " belongs to " + u.Name
			}
			out := w.export(w.base, proj)
			wantNoChanges(t, out)
			wantMessage(t, out, want)

			// Inside already: an edit makes the hook run; the shell keeps
			// what it has.
			w.edit("proj/"+projectfile.Name, "account = \"work\"\n")
			w.allow(filepath.Join(proj, projectfile.Name))
			env, out = w.cd(inside, proj)
			wantNoChanges(t, out)
			wantMessage(t, out, want)
			wantEnv(t, env, inside)

			if kind == "another user's" {
				return
			}
			chmodT(t, cdir, 0o700)
			chmodT(t, filepath.Dir(cdir), 0o700)
			env, _ = w.cd(w.base, proj)
			w.wantBound(env, "work")
		})
	}
}

func chmodT(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// TestConfigDirMendQuotedForTheShell: the mend the hook suggests quotes
// the path for the shell that asked, so that pasting it runs that chmod
// and nothing else.
func TestConfigDirMendQuotedForTheShell(t *testing.T) {
	w := newWorld(t)
	w.write(".config/oca/accounts.toml", accountsTOML+"\n[accounts.odd]\nport = 10103\nconfig_dir = \"~/it's $(cfg)\"\n")
	proj := w.project("proj", "odd")
	cdir := w.mkdir("it's $(cfg)")
	chmodT(t, cdir, 0o777)
	for _, name := range []string{"bash", "fish"} {
		sh, err := shells.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Export(Input{Env: w.base, PWD: proj, Quote: sh.Quote})
		if err != nil {
			t.Fatal(err)
		}
		wantNoChanges(t, out)
		wantMessage(t, out, "mend with: chmod go-w "+sh.Quote(cdir))
	}
}
