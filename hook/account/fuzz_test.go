package account

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/projectfile"
)

func FuzzLoadAccounts(f *testing.F) {
	for _, s := range []string{
		"", "[accounts.work]\nport = 10001\n",
		"opencode = \"~/bin/opencode\"\n[accounts.a]\nport = 10001\ndata_home = \"~/x\"\nidle_timeout = \"1h\"\ntrusted_paths = [\"~/w\"]\n[accounts.a.env]\nK = \"v\"\n",
		"[accounts.a]\nport = 10001\n[accounts.b]\nport = 10001\n",
		"[accounts.a]\nport = 10001\ndata_home = \"/d\"\n[accounts.b]\nport = 10002\ndata_home = \"/d\"\n",
		"[accounts.a]\nport = 1\n", "[accounts.a]\nport = 99999999999999999999\n",
		"[accounts.a]\nport = 10001\nidle_timeout = \"-1s\"\n",
		"[accounts.a]\nport = 10001\nenv = { \"1\" = \"x\" }\n",
		"[accounts.\"../x\"]\nport = 10001\n", "[accounts.a]\nport = 10001\nextra = 1\n",
		"accounts = 1\n", "accounts = [1]\n", "[[accounts]]\n", "[accounts.a.env.b]\n",
		"[accounts.a]\nport = 10001\ndata_home = \"~\"\n", "[accounts.a]\nport = 10001\ndata_home = \"~/.local/share\"\n",
		"[accounts]\na = {port = 10001, env = {X = \"1\"}}\n", "\x00", "[accounts.a\n",
		"# c\n[ accounts . \"a\" ] # x\n  port=10001 # p\n  trusted_paths = [\n \"~/a\", # t\n ]\n\n # e\n[accounts.a.env]\nK = \"\"\"\n[accounts.b]\n\"\"\"\n[accounts.c]\nport = 10002\nsystemd = true\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		home := t.TempDir()
		d := Dirs{Home: home, Config: filepath.Join(home, "c"), State: filepath.Join(home, "s"), Data: filepath.Join(home, "d")}
		if err := os.MkdirAll(d.Config, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(d.AccountsFile(), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Load(d)
		if err != nil {
			var pe *projectfile.Error
			if !errors.As(err, &pe) || pe.Path != d.AccountsFile() || !strings.HasPrefix(err.Error(), d.AccountsFile()) {
				t.Fatalf("error %T %q does not name the file", err, err)
			}
			return
		}
		ports := map[int]bool{}
		homes := map[string]bool{}
		for name, a := range r.Accounts {
			if !projectfile.ValidAccountName(name) || a.Name != name || a.Port < MinPort || a.Port > MaxPort ||
				!filepath.IsAbs(a.DataHome) || a.DataHome == d.Data || ports[a.Port] || homes[a.DataHome] || a.IdleTimeout < 0 {
				t.Fatalf("Load accepted %+v", a)
			}
			ports[a.Port] = true
			homes[a.DataHome] = true
		}
		// An edit in place (a removal, a key change, an addition) either
		// says what the registry holds or is refused for a rewrite.
		names := r.Names()
		if len(names) > 0 {
			r.Remove(names[0])
		}
		if len(names) > 1 {
			r.SetSystemd(names[1], !r.Accounts[names[1]].Systemd)
			r.SetTrustedPaths(names[1], []string{"~/t"})
		}
		r.Accounts["zz-new"] = &Account{Name: "zz-new", Port: 65000, raw: accountTOML{Port: 65000, DataHome: "/zz-new"}}
		if out, ok := r.edit(r.data, r.loaded); ok {
			r3 := &Registry{Path: r.Path, Accounts: map[string]*Account{}, dirs: d}
			if err := r3.parse(out); err != nil && !strings.Contains(err.Error(), "65000") {
				t.Fatalf("an edit in place does not load: %v\n%s", err, out)
			}
		}
		r, _ = Load(d)
		// What Load accepts, a save writes back as it was understood.
		enc, err := r.encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if err := os.WriteFile(d.AccountsFile(), enc, 0o600); err != nil {
			t.Fatal(err)
		}
		r2, err := Load(d)
		if err != nil {
			t.Fatalf("reloading what was saved: %v\n%s", err, enc)
		}
		if len(r2.Accounts) != len(r.Accounts) {
			t.Fatalf("saved %d accounts, reloaded %d", len(r.Accounts), len(r2.Accounts))
		}
		for name, a := range r.Accounts {
			b := r2.Accounts[name]
			if b == nil || b.Port != a.Port || b.DataHome != a.DataHome || b.IdleTimeout != a.IdleTimeout {
				t.Fatalf("account %s changed in a save: %+v became %+v", name, a, b)
			}
		}
	})
}
