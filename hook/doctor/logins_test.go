package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
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
	env, dirs := world(t, freePort(t))
	ms := func(d time.Duration) int64 { return time.Now().Add(d).UnixMilli() }
	writeLogins(t, dirs, fmt.Sprintf(`{"anthropic":{"type":"oauth","refresh":"RSECRET","access":"ASECRET","expires":%d},`+
		`"copilot":{"type":"oauth","refresh":"r","access":"a","expires":%d},"openai":{"type":"api","key":"sk-KSECRET"}}`,
		ms(-2*time.Hour-time.Minute), ms(5*time.Hour+time.Minute)))
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	f := finding(fs, "logins work", "anthropic login expired 2h ago")
	if f == nil || f.Severity != Error || f.Fix != "oca login work" {
		t.Fatalf("expired login: %+v", fs)
	}
	if f := finding(fs, "logins work", "copilot login expires in 5h"); f == nil || f.Severity != Warn || f.Fix != "oca login work" {
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
	env, dirs := world(t, freePort(t))
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
	env, dirs := world(t, freePort(t))
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
	env, dirs := world(t, freePort(t))
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
