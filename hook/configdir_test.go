package hook

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
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
