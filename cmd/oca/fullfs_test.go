package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestAccountAddOnFullDisk: `oca account add` on a full filesystem (a real
// filled tmpfs) as XDG_STATE_HOME (the password cannot be written) or as
// XDG_CONFIG_HOME (accounts.toml cannot be saved) fails with the reason,
// and leaves no account behind: not in the file (which stays byte for
// byte), no data home, no runtime directory.
func TestAccountAddOnFullDisk(t *testing.T) {
	t.Parallel()
	oca := shelltest.Oca(t)
	for _, full := range []string{"XDG_STATE_HOME", "XDG_CONFIG_HOME"} {
		t.Run(full, func(t *testing.T) {
			home := t.TempDir()
			env := map[string]string{
				"HOME": home, "PATH": os.Getenv("PATH"), "OCA_AUTOSTART": "0",
				"XDG_STATE_HOME":  filepath.Join(home, ".local", "state"),
				"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
				"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
			}
			env[full] = testsys.Tmpfs(t, "64k")
			run := func(args ...string) (string, error) {
				cmd := exec.Command(oca, args...)
				for k, v := range env {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			if out, err := run("account", "add", "first", "--port", "10001"); err != nil {
				t.Fatalf("add first: %v: %s", err, out)
			}
			file := filepath.Join(env["XDG_CONFIG_HOME"], "oca", "accounts.toml")
			before, _ := os.ReadFile(file)
			testsys.Fill(t, env[full])
			out, err := run("account", "add", "second", "--port", "10002")
			if err == nil || !strings.Contains(out, "no space left on device") {
				t.Fatalf("add on a full %s: %v: %s", full, err, out)
			}
			if after, _ := os.ReadFile(file); string(after) != string(before) {
				t.Errorf("accounts.toml changed:\n%s", after)
			}
			for _, gone := range []string{
				filepath.Join(env["XDG_DATA_HOME"], "oca", "accounts", "second"),
				filepath.Join(env["XDG_STATE_HOME"], "oca", "accounts", "second"),
			} {
				if _, err := os.Lstat(gone); err == nil {
					t.Errorf("%s was left behind", gone)
				}
			}
			if out, err := run("account", "list", "-q"); err != nil || out != "first\n" {
				t.Errorf("account list: %v: %q", err, out)
			}
		})
	}
}
