package account

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// attach: true by default, false where the file says so, kept as written
// when oca rewrites the file, and a wrong type is an error naming the key.
func TestAttachKey(t *testing.T) {
	home := t.TempDir()
	dirs, err := DirsFrom(func(k string) string { return map[string]string{"HOME": home}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dirs.Config, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(dirs.AccountsFile(), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[accounts.a]\nport = 10001\n\n[accounts.b]\nport = 10002\nattach = false\n\n[accounts.c]\nport = 10003\nattach = true\n")
	r, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if got := r.Accounts[name].Attach; got != want {
			t.Errorf("%s: Attach = %v, want %v", name, got, want)
		}
	}
	if err := Update(dirs, func(r *Registry) error { _, err := r.Add("d", AddOptions{}); return err }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dirs.AccountsFile())
	_, d, _ := strings.Cut(string(data), "[accounts.d]")
	if strings.Count(string(data), "attach = false") != 1 || strings.Count(string(data), "attach = true") != 1 || strings.Contains(d, "attach") {
		t.Errorf("rewritten file:\n%s", data)
	}
	if r, err = Load(dirs); err != nil || !r.Accounts["d"].Attach || r.Accounts["b"].Attach {
		t.Errorf("after a rewrite: %v", err)
	}
	write("[accounts.a]\nport = 10001\nattach = \"no\"\n")
	if _, err := Load(dirs); err == nil || !strings.Contains(err.Error(), filepath.Base(dirs.AccountsFile())+":3") || !strings.Contains(err.Error(), "attach") {
		t.Errorf("attach = \"no\": %v", err)
	}
}
