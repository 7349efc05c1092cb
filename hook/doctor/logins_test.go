package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/testsys"
)

func writeLogins(t *testing.T, dirs account.Dirs, content string) {
	t.Helper()
	dir := filepath.Join(dirs.DefaultDataHome("work"), "opencode")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth.json"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestExpiredLogin: an expired OAuth login is an error whose fix is `oca
// login ACCOUNT`; one that expires within a day a warning; a key is fine.
func TestExpiredLogin(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	ms := func(d time.Duration) int64 { return time.Now().Add(d).UnixMilli() }
	writeLogins(t, dirs, fmt.Sprintf(`{"anthropic":{"type":"oauth","refresh":"RSECRET","access":"ASECRET","expires":%d},`+
		`"copilot":{"type":"oauth","refresh":"r","access":"a","expires":%d},"openai":{"type":"api","key":"sk-KSECRET"}}`,
		ms(-2*time.Hour-time.Minute), ms(5*time.Hour+time.Minute)))
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	f := finding(fs, "logins work", "anthropic login expired 2h ago")
	if f == nil || f.Severity != Error || f.Fix != "oca login work anthropic" {
		t.Fatalf("expired login: %+v", fs)
	}
	if f := finding(fs, "logins work", "copilot login expires in 5h"); f == nil || f.Severity != Warn || f.Fix != "oca login work copilot" {
		t.Errorf("login expiring within a day: %+v", fs)
	}
	if f := finding(fs, "logins work", "openai"); f != nil {
		t.Errorf("a key is no finding: %+v", f)
	}
	for _, f := range fs {
		if strings.Contains(fmt.Sprint(f), "SECRET") {
			t.Errorf("a secret in %+v", f)
		}
	}

	writeLogins(t, dirs, fmt.Sprintf(`{"anthropic":{"type":"oauth","refresh":"r","access":"a","expires":%d}}`, ms(96*time.Hour+time.Minute)))
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "logins work", "anthropic (oauth, expires in 4d)"); f == nil || f.Severity != OK {
		t.Errorf("a login good for days: %+v", fs)
	}
}

// TestUnreadableLogins: an auth.json that is a directory is an error that
// names it.
func TestUnreadableLogins(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	auth := filepath.Join(dirs.DefaultDataHome("work"), "opencode", "auth.json")
	if err := os.MkdirAll(auth, 0o700); err != nil {
		t.Fatal(err)
	}
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "logins work", auth+" is a directory"); f == nil || f.Severity != Error {
		t.Errorf("auth.json a directory: %+v", fs)
	}
}

// TestGlobalConfigKey: a provider key in OpenCode's global config (json or
// jsonc, with comments and trailing commas) is a warning that names the
// file and the provider, never the key.
func TestGlobalConfigKey(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "global config", "no provider key"); f == nil || f.Severity != OK {
		t.Fatalf("no global config: %+v", fs)
	}
	dir := filepath.Join(env["HOME"], ".config", "opencode")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "opencode.jsonc"), []byte(`{
  // my providers
  "provider": {
    "openai": {"options": {"apiKey": "sk-GLOBALSECRET", /* inline */ "baseURL": "https://x//y"},},
    "local": {"options": {"apiKey": "{env:LOCAL_KEY}"}},
  },
}`), 0o600)
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	f := finding(fs, "global config", "~/.config/opencode/opencode.jsonc holds a key for openai (provider.openai.options.apiKey)")
	if f == nil || f.Severity != Warn || !strings.Contains(f.Fix, dirs.Abbrev(dirs.DefaultConfigDir("ACCOUNT"))) {
		t.Fatalf("a key in the global config: %+v", fs)
	}
	if strings.Contains(fmt.Sprint(fs), "GLOBALSECRET") || strings.Contains(f.What, "local") {
		t.Errorf("finding: %+v", f)
	}
}

// TestConfigDirFindings: a config dir that is a link is an error; a missing
// one a warning that --fix mends.
func TestConfigDirFindings(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	reg, err := account.Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if err := account.Prepare(dirs, reg.Accounts["work"]); err != nil {
		t.Fatal(err)
	}
	cdir := dirs.DefaultConfigDir("work")
	os.RemoveAll(cdir)
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	if f := finding(fs, "account work", "config dir "+cdir+" is missing"); f == nil || f.Fixed == "" {
		t.Fatalf("missing config dir: %+v", fs)
	}
	if fi, err := os.Lstat(cdir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("after --fix: %v %v", fi, err)
	}
	os.Remove(cdir)
	os.Symlink(t.TempDir(), cdir)
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	if f := finding(fs, "account work", "is a symbolic link, not a directory"); f == nil || f.Severity != Error {
		t.Errorf("config dir a link: %+v", fs)
	}
}

// TestConfigDirOthersMayChange: a config dir that others may write, or
// below a directory they may write, is an error naming it, with the chmod
// that mends it; --fix makes that chmod (of the user's own directories,
// from the config dir up) and nothing else. Another user's config dir is
// an error too, and --fix leaves it as it is: never a chown.
func TestConfigDirOthersMayChange(t *testing.T) {
	env, dirs := world(t, testsys.FreePort(t))
	reg, err := account.Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	a := reg.Accounts["work"]
	if err := account.Prepare(dirs, a); err != nil {
		t.Fatal(err)
	}
	cdir := dirs.DefaultConfigDir("work")
	if err := os.WriteFile(filepath.Join(cdir, "opencode.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cdir, filepath.Dir(cdir)} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	f := finding(fs, "account work", "config dir "+cdir+" may be written by others (mode 0777)")
	if f == nil || f.Severity != Error || f.Fix != "chmod go-w "+cdir || !strings.Contains(f.Why, "plugins") {
		t.Fatalf("a 0777 config dir: %+v", fs)
	}
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	if f := finding(fs, "account work", "config dir "+cdir); f == nil || f.Fixed == "" || f.Severity != OK {
		t.Fatalf("--fix: %+v", fs)
	}
	for _, p := range []string{cdir, filepath.Dir(cdir)} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("after --fix, %s: %v %v, want mode 0755", p, fi, err)
		}
	}
	if _, err := os.Stat(filepath.Join(cdir, "opencode.json")); err != nil {
		t.Errorf("--fix lost the config dir's file: %v", err)
	}
	if err := account.CheckConfigDir(a); err != nil {
		t.Errorf("after --fix: %v", err)
	}

	// Another user's: an error, and --fix neither chowns nor chmods it.
	u := testsys.AddUser(t)
	if err := os.Chown(cdir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cdir, 0o777); err != nil {
		t.Fatal(err)
	}
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Fix: true})
	f = finding(fs, "account work", "config dir "+cdir+" belongs to "+u.Name)
	if f == nil || f.Severity != Error || f.Fixed != "" || !strings.Contains(f.Fix, "sudo chown -R") {
		t.Fatalf("another user's config dir: %+v", fs)
	}
	fi, err := os.Stat(cdir)
	if err != nil || fi.Mode().Perm() != 0o777 || fi.Sys().(*syscall.Stat_t).Uid != uint32(u.UID) {
		t.Errorf("--fix changed another user's config dir: %v %v", fi, err)
	}
}
