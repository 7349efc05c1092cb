package shells_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestNothingLeaksSecrets: after a session that enters a project, starts
// the server (a fake OpenCode that prints the password and a key), and runs
// every reporting command, neither the password nor a key appears in what
// oca printed or in any file oca wrote but the password file itself.
func TestNothingLeaksSecrets(t *testing.T) {
	t.Parallel()
	w := bareWorld(t)
	w.Oca("", "account", "add", "work")
	w.Mkdir("proj")
	w.Oca("proj", "init", "work")
	acc := w.Path(".config/oca/accounts.toml")
	data, err := os.ReadFile(acc)
	if err != nil {
		t.Fatal(err)
	}
	// The account's env table reaches the server: make the fake print secrets.
	w.Write(".config/oca/accounts.toml", string(data)+"\n[accounts.work.env]\nFAKE_PRINT_SECRET = \"1\"\n")
	const key = "sk-ant-LEAKCHECK-0123456789"
	w.Mkdir(".local/share/oca/accounts/work/opencode")
	w.Write(".local/share/oca/accounts/work/opencode/auth.json", `{"anthropic":{"type":"api","key":"`+key+`"}}`)
	t.Cleanup(func() { w.Oca("", "server", "stop", "work") })

	s := w.Start("bash", "", shelltest.Options{})
	var printed strings.Builder
	for _, line := range []string{
		"cd proj",
		"oca server wait",
		"oca status",
		"oca status --json",
		"oca account show work --json",
		"oca account list --json",
		"oca doctor",
		"oca doctor --json",
		"oca server logs",
		"oca compose",
		"oca systemd print",
		"oca server restart && oca server wait",
		"cd ..",
	} {
		printed.WriteString(s.Run(line))
	}
	pw := w.Password("work")
	secrets := map[string]string{"the password": pw, "the key in auth.json": key, "the key OpenCode printed": "sk-ant-fake-printed-1234"}
	for what, secret := range secrets {
		if strings.Contains(printed.String(), secret) {
			t.Errorf("oca printed %s", what)
		}
	}
	if !strings.Contains(printed.String(), "ready") || !strings.Contains(printed.String(), "anthropic") {
		t.Fatalf("the session did not run as planned:\n%s", printed.String())
	}
	logs := 0
	for _, root := range []string{w.Path(".local/state/oca"), w.Path(".config/oca")} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path == w.Path(".local/state/oca/accounts/work/password") {
				return nil
			}
			content, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			if strings.HasSuffix(path, "serve.log") {
				logs++
				if !strings.Contains(string(content), "password is") {
					t.Errorf("the log lacks the fake's line; the test proves nothing:\n%s", content)
				}
			}
			for what, secret := range secrets {
				if strings.Contains(string(content), secret) {
					t.Errorf("%s holds %s", path, what)
				}
			}
			return nil
		})
	}
	if logs == 0 {
		t.Error("no serve.log was written")
	}
}
