package account

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const authSample = `{
  "openai": {"type": "api", "key": "sk-OPENAISECRET"},
  "anthropic": {"type": "oauth", "refresh": "REFRESHSECRET", "access": "ACCESSSECRET", "expires": 1700000000000},
  "copilot": {"type": "oauth", "refresh": "R2", "access": "A2", "expires": 1700090000000},
  "corp": {"type": "wellknown", "key": "WK", "token": "TOKENSECRET"}
}`

func writeAuth(t *testing.T, content string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "opencode"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(AuthFile(home), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestReadLogins(t *testing.T) {
	home := writeAuth(t, authSample)
	logins, err := ReadLogins(home)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1700000000000).Add(2*time.Hour + 5*time.Minute)
	var short []string
	var js []any
	for _, l := range logins {
		short = append(short, l.Short(now))
		js = append(js, l.JSON(now))
	}
	want := "anthropic (oauth, expired 2h ago)|copilot (oauth, expires in 22h)|corp (wellknown)|openai (key)"
	if got := strings.Join(short, "|"); got != want {
		t.Errorf("short:\n got %s\nwant %s", got, want)
	}
	data, _ := json.Marshal(js)
	wantJSON := `[{"name":"anthropic","type":"oauth","expires":"2023-11-14T22:13:20Z","expired":true},` +
		`{"name":"copilot","type":"oauth","expires":"2023-11-15T23:13:20Z","expired":false},` +
		`{"name":"corp","type":"wellknown"},{"name":"openai","type":"api"}]`
	if string(data) != wantJSON {
		t.Errorf("json:\n got %s\nwant %s", data, wantJSON)
	}
	lines := ExpiredLogins(&Account{Name: "work", DataHome: home}, now)
	if len(lines) != 1 || lines[0] != "account work: anthropic login expired 2h ago; log in again with: oca login work anthropic" {
		t.Errorf("ExpiredLogins: %q", lines)
	}
	for _, out := range append(short, string(data), strings.Join(lines, "")) {
		for _, secret := range []string{"OPENAISECRET", "REFRESHSECRET", "ACCESSSECRET", "TOKENSECRET", "A2", "R2"} {
			if strings.Contains(out, secret) {
				t.Errorf("a secret in %q", out)
			}
		}
	}
}

func TestReadLoginsMissingOrEmpty(t *testing.T) {
	if l, err := ReadLogins(t.TempDir()); err != nil || len(l) != 0 {
		t.Errorf("missing auth.json: %v %v", l, err)
	}
	if l, err := ReadLogins(writeAuth(t, "")); err != nil || len(l) != 0 {
		t.Errorf("empty auth.json: %v %v", l, err)
	}
}

// TestReadLoginsRefusesBadFiles: an auth.json that is a link, a directory,
// a FIFO or not JSON is one clear message that names it; never its content.
func TestReadLoginsRefusesBadFiles(t *testing.T) {
	cases := map[string]struct {
		setup func(t *testing.T, path string)
		want  string
	}{
		"link": {func(t *testing.T, path string) {
			other := filepath.Join(t.TempDir(), "auth.json")
			os.WriteFile(other, []byte(authSample), 0o600)
			if err := os.Symlink(other, path); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link, not a regular file: refusing it"},
		"directory": {func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a directory, not a regular file"},
		"fifo": {func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is a FIFO, not a regular file"},
		"garbage": {func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"openai": "sk-GARBAGESECRET"`), 0o600)
		}, "is not OpenCode's auth.json"},
		"wrong shape": {func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"openai": "sk-GARBAGESECRET"}`), 0o600)
		}, "is not OpenCode's auth.json (a string where an object belongs"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			os.MkdirAll(filepath.Join(home, "opencode"), 0o700)
			c.setup(t, AuthFile(home))
			_, err := ReadLogins(home)
			if err == nil || !strings.Contains(err.Error(), AuthFile(home)) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q naming the file, got %v", c.want, err)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "\n") {
				t.Errorf("message: %q", err)
			}
			lines := ExpiredLogins(&Account{Name: "work", DataHome: home}, time.Now())
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "account work: ") {
				t.Errorf("entering: %q", lines)
			}
		})
	}
}
