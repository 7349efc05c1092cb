package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/testsys"
)

func TestOnlyRefreshed(t *testing.T) {
	const before = `{"anthropic":{"type":"oauth","refresh":"r1","access":"a1","expires":1},"openai":{"type":"api","key":"k"}}`
	cases := []struct {
		after string
		want  bool
	}{
		{`{"openai":{"type":"api","key":"k"},"anthropic":{"type":"oauth","access":"a2","refresh":"r2","expires":2}}`, true},
		{`{"anthropic":{"type":"oauth","refresh":"r1","access":"a2","expires":2},"openai":{"type":"api","key":"k2"}}`, false},                // a new key
		{`{"anthropic":{"type":"oauth","refresh":"r1","access":"a2","expires":2}}`, false},                                                   // a provider gone
		{`{"anthropic":{"type":"api","key":"x"},"openai":{"type":"api","key":"k"}}`, false},                                                  // another type
		{`{"anthropic":{"type":"oauth","refresh":"r1","access":"a2","expires":2,"accountId":"x"},"openai":{"type":"api","key":"k"}}`, false}, // a new field
		{before[:20], false}, // not JSON
		{before + `,"x"`, false},
	}
	for _, c := range cases {
		if got := onlyRefreshed([]byte(before), []byte(c.after)); got != c.want {
			t.Errorf("onlyRefreshed(%s) = %v, want %v", c.after, got, c.want)
		}
	}
}

// reloadAccount serves a fake OpenCode that records disposes, with a config
// dir, and returns its config and a count of the disposes so far.
func reloadAccount(t *testing.T, extra map[string]string) (Config, *served, func() int) {
	t.Helper()
	a := newAccount(t, "reload")
	record := filepath.Join(t.TempDir(), "record")
	a.cfg.ConfigDir = filepath.Join(t.TempDir(), "config")
	if err := os.MkdirAll(a.cfg.ConfigDir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record}
	for k, v := range extra {
		env[k] = v
	}
	cfg := a.withEnv(env)
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	return cfg, s, func() int { b, _ := os.ReadFile(record); return strings.Count(string(b), "dispose") }
}

// quiet checks that n stays the count of disposes for a while.
func quiet(t *testing.T, disposes func() int, n int, why string) {
	t.Helper()
	time.Sleep(time.Second)
	if got := disposes(); got != n {
		t.Fatalf("%s: %d disposes, want %d", why, got, n)
	}
}

// TestServeTokenRefreshNoReload: OpenCode's own token refresh (only
// access, refresh and expires move) is no reload; a new provider is.
func TestServeTokenRefreshNoReload(t *testing.T) {
	t.Parallel()
	auth := ""
	cfg, s, disposes := reloadAccount(t, nil)
	auth = account.AuthFile(cfg.DataHome)
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(auth, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"anthropic":{"type":"oauth","refresh":"r1","access":"a1","expires":1}}`)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose for the first login", func() bool { return disposes() == 1 })
	write(`{"anthropic":{"type":"oauth","refresh":"r2","access":"access-tok-2","expires":2}}`)
	// Seen (a loaded machine sees it late), then no reload for it.
	testsys.Eventually(t, testsys.OpencodeWait(), "the refresh seen", func() bool {
		return strings.Contains(s.log.String(), "OpenCode refreshed a token in auth.json: nothing to reload")
	})
	quiet(t, disposes, 1, "a token refresh")
	write(`{"anthropic":{"type":"oauth","refresh":"r2","access":"access-tok-2","expires":2},"openai":{"type":"api","key":"sk-new"}}`)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose for a new provider", func() bool { return disposes() == 2 })
	if strings.Contains(s.log.String(), "sk-new") || strings.Contains(s.log.String(), "access-tok-2") {
		t.Errorf("a secret in the log: %s", s.log.String())
	}
}

// TestServeReloadWaitsForBusySessions: a reload waits while a session is
// busy, and happens once it is not; past ReloadWait it happens anyway.
func TestServeReloadWaitsForBusySessions(t *testing.T) {
	t.Parallel()
	busy := filepath.Join(t.TempDir(), "busy")
	os.WriteFile(busy, nil, 0o600)
	cfg, s, disposes := reloadAccount(t, map[string]string{"FAKE_BUSY": busy})
	os.WriteFile(account.AuthFile(cfg.DataHome), []byte(`{"openai":{"type":"api","key":"k1"}}`), 0o600)
	quiet(t, disposes, 0, "a change while a session is busy")
	testsys.Eventually(t, testsys.OpencodeWait(), "the wait logged", func() bool {
		return strings.Contains(s.log.String(), "waiting until 1 busy session(s) finish, at most 10m0s")
	})
	os.Remove(busy)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose once no session is busy", func() bool { return disposes() == 1 })
}

func TestServeReloadWaitIsBounded(t *testing.T) {
	t.Parallel()
	busy := filepath.Join(t.TempDir(), "busy")
	os.WriteFile(busy, nil, 0o600)
	a := newAccount(t, "bounded")
	record := filepath.Join(t.TempDir(), "record")
	a.cfg.ReloadWait = 2 * time.Second
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record, "FAKE_BUSY": busy})
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	disposes := func() int { b, _ := os.ReadFile(record); return strings.Count(string(b), "dispose") }
	start := time.Now()
	os.WriteFile(account.AuthFile(cfg.DataHome), []byte(`{"openai":{"type":"api","key":"k1"}}`), 0o600)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose after the bound", func() bool { return disposes() == 1 })
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("disposed after %s, before the bound", d)
	}
	if !strings.Contains(s.log.String(), "sessions still busy (or unknown) after 2s: reloading anyway") {
		t.Errorf("log: %s", s.log.String())
	}
}

// TestServeConfigDirChangeReloads: a change under the config dir, also in a
// sub-directory made after the start, reloads; OpenCode's own files there
// (node_modules, package.json) do not.
func TestServeConfigDirChangeReloads(t *testing.T) {
	t.Parallel()
	cfg, _, disposes := reloadAccount(t, nil)
	os.WriteFile(filepath.Join(cfg.ConfigDir, "opencode.json"), []byte(`{"username":"x"}`), 0o600)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose for opencode.json", func() bool { return disposes() == 1 })
	os.MkdirAll(filepath.Join(cfg.ConfigDir, "node_modules", "x"), 0o700)
	os.WriteFile(filepath.Join(cfg.ConfigDir, "package.json"), []byte(`{}`), 0o600)
	os.WriteFile(filepath.Join(cfg.ConfigDir, "node_modules", "x", "index.js"), []byte(`1`), 0o600)
	quiet(t, disposes, 1, "OpenCode's own files")
	os.Mkdir(filepath.Join(cfg.ConfigDir, "agent"), 0o700)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose for agent/", func() bool { return disposes() == 2 })
	time.Sleep(300 * time.Millisecond) // the new directory's watch
	os.WriteFile(filepath.Join(cfg.ConfigDir, "agent", "review.md"), []byte("# review\n"), 0o600)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose for agent/review.md", func() bool { return disposes() == 3 })
}

// TestServeRefusesAuthNotAFile: an auth.json replaced by a link or a
// directory is not reloaded; the log says why in one line; the link's
// target is untouched.
func TestServeRefusesAuthNotAFile(t *testing.T) {
	t.Parallel()
	cfg, s, disposes := reloadAccount(t, nil)
	auth := account.AuthFile(cfg.DataHome)
	other := filepath.Join(t.TempDir(), "other.json")
	os.WriteFile(other, []byte(`{"openai":{"type":"api","key":"sk-other"}}`), 0o600)
	if err := os.Symlink(other, auth); err != nil {
		t.Fatal(err)
	}
	quiet(t, disposes, 0, "auth.json a link")
	testsys.Eventually(t, testsys.OpencodeWait(), "the refusal logged", func() bool {
		return strings.Contains(s.log.String(), "not reloading the credentials: "+auth+" is a symbolic link, not a regular file: refusing it")
	})
	os.Remove(auth)
	os.Mkdir(auth, 0o700)
	quiet(t, disposes, 0, "auth.json a directory")
	if b, _ := os.ReadFile(other); string(b) != `{"openai":{"type":"api","key":"sk-other"}}` {
		t.Errorf("the link's target changed: %s", b)
	}
	// Mended: a file again, and it is reloaded.
	os.Remove(auth)
	os.WriteFile(auth, []byte(`{"openai":{"type":"api","key":"sk-mine"}}`), 0o600)
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose once mended", func() bool { return disposes() == 1 })
	if strings.Contains(s.log.String(), "sk-") {
		t.Errorf("a key in the log: %s", s.log.String())
	}
}

// TestBuildEnvConfigDir: the server gets the account's config dir, and the
// account's env table cannot replace it (nor can the caller's environment).
func TestBuildEnvConfigDir(t *testing.T) {
	cfg := Config{DataHome: "/d", ConfigDir: "/c/work", StateDir: "/s", Password: "pw"}
	env := BuildEnv([]string{"OPENCODE_CONFIG_DIR=/from/shell", "PATH=/bin"}, cfg, map[string]string{"OPENCODE_CONFIG_DIR": "/from/table"})
	var got []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "OPENCODE_CONFIG_DIR=") {
			got = append(got, kv)
		}
	}
	if len(got) != 1 || got[0] != "OPENCODE_CONFIG_DIR=/c/work" {
		t.Errorf("OPENCODE_CONFIG_DIR: %q", got)
	}
	over := overlayEnv([]string{"OPENCODE_CONFIG_DIR=/other", "PATH=/bin"}, cfg)
	n := 0
	for _, kv := range over {
		if strings.HasPrefix(kv, "OPENCODE_CONFIG_DIR=") {
			n++
			if kv != "OPENCODE_CONFIG_DIR=/c/work" {
				t.Errorf("overlayEnv: %q", kv)
			}
		}
	}
	if n != 1 {
		t.Errorf("overlayEnv: %d OPENCODE_CONFIG_DIR entries", n)
	}
}

// TestServeReloadDroppedOnRestart: a reload waiting for a busy session is
// dropped when OpenCode restarts meanwhile: the new process read the
// credentials at its start.
func TestServeReloadDroppedOnRestart(t *testing.T) {
	t.Parallel()
	busy := filepath.Join(t.TempDir(), "busy")
	os.WriteFile(busy, nil, 0o600)
	cfg, s, disposes := reloadAccount(t, map[string]string{"FAKE_BUSY": busy})
	os.WriteFile(account.AuthFile(cfg.DataHome), []byte(`{"openai":{"type":"api","key":"k1"}}`), 0o600)
	testsys.Eventually(t, testsys.OpencodeWait(), "the wait logged", func() bool { return strings.Contains(s.log.String(), "waiting until 1 busy session(s) finish") })
	st, err := ReadStatus(cfg.StateDir)
	if err != nil || st.OpencodePID == 0 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := syscall.Kill(st.OpencodePID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "the reload dropped", func() bool {
		return strings.Contains(s.log.String(), "OpenCode restarted meanwhile and read them at its start: no reload needed")
	})
	os.Remove(busy)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	quiet(t, disposes, 0, "after the restart")
}

// TestServeReloadRetriesAFailedDispose: a reload that fails (the server
// answers the dispose with an error, as a loaded machine's OpenCode timed
// out once) is tried again until the server takes it: the change on disk
// is not left unread.
func TestServeReloadRetriesAFailedDispose(t *testing.T) {
	t.Parallel()
	failing := filepath.Join(t.TempDir(), "failing")
	if err := os.WriteFile(failing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, s, disposes := reloadAccount(t, map[string]string{"FAKE_DISPOSE_FAIL": failing})
	if err := os.WriteFile(account.AuthFile(cfg.DataHome), []byte(`{"openai":{"type":"api","key":"sk-a"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "a failed reload", func() bool {
		return strings.Contains(s.log.String(), "reloading them failed")
	})
	if err := os.Remove(failing); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "the reload tried again", func() bool {
		return disposes() == 1 && strings.Contains(s.log.String(), "the server reloaded them")
	})
	if !strings.Contains(s.log.String(), "trying again in 2s") {
		t.Errorf("the log does not say when it tries again:\n%s", s.log.String())
	}
}
