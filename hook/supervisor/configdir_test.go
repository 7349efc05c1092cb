package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/safepath"
	"github.com/oca-sh/oca/internal/testsys"
)

// unsafeConfigAccount is an account with a config dir and, as cmd/oca
// gives it, a ConfigDirCheck (here: the config dir itself, by
// safepath's rule), serving a fake OpenCode that records its disposes.
func unsafeConfigAccount(t *testing.T) (Config, func() int) {
	t.Helper()
	a := newAccount(t, "cfgdir")
	record := filepath.Join(t.TempDir(), "record")
	dir := filepath.Join(t.TempDir(), "config")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	a.cfg.ConfigDir = dir
	a.cfg.ConfigDirCheck = func() error { return safepath.Check(dir, safepath.Rule{Top: dir, Mine: true}) }
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record})
	return cfg, func() int { b, _ := os.ReadFile(record); return strings.Count(string(b), "dispose") }
}

// TestServeRefusesUnsafeConfigDir: a supervisor whose config dir fails its
// check starts no OpenCode and gives up at once, saying why in status.json
// and its log; one whose config dir becomes writable by others while
// OpenCode runs stops it, without a reload of what was dropped there.
func TestServeRefusesUnsafeConfigDir(t *testing.T) {
	t.Parallel()
	t.Run("at start", func(t *testing.T) {
		t.Parallel()
		cfg, _ := unsafeConfigAccount(t)
		if err := os.Chmod(cfg.ConfigDir, 0o777); err != nil {
			t.Fatal(err)
		}
		s := startServe(t, cfg)
		err := s.wait(t, testsys.OpencodeWait())
		want := cfg.ConfigDir + " may be written by others (mode 0777)"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Serve = %v, want %q", err, want)
		}
		st, _ := ReadStatus(cfg.StateDir)
		if st.Phase != PhaseFailing || !strings.Contains(st.LastError, want) || st.OpencodePID != 0 {
			t.Errorf("status %+v", st)
		}
		if !strings.Contains(s.log.String(), "giving up: "+want) || strings.Contains(s.log.String(), "started opencode") {
			t.Errorf("log:\n%s", s.log.String())
		}
		if pids := accountProcs(cfg.DataHome); len(pids) != 0 {
			t.Errorf("OpenCode ran: %v", pids)
		}
	})
	t.Run("while running", func(t *testing.T) {
		t.Parallel()
		cfg, disposes := unsafeConfigAccount(t)
		s := startServe(t, cfg)
		waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
		if err := os.Chmod(cfg.ConfigDir, 0o777); err != nil {
			t.Fatal(err)
		}
		// What someone else drops there now is never loaded.
		if err := os.WriteFile(filepath.Join(cfg.ConfigDir, "opencode.json"), []byte(`{"plugin":["evil"]}`), 0o666); err != nil {
			t.Fatal(err)
		}
		err := s.wait(t, testsys.OpencodeWait())
		if err == nil || !strings.Contains(err.Error(), "may be written by others") {
			t.Fatalf("Serve = %v", err)
		}
		st, _ := ReadStatus(cfg.StateDir)
		if st.Phase != PhaseFailing || !strings.Contains(st.LastError, cfg.ConfigDir+" may be written by others") {
			t.Errorf("status %+v", st)
		}
		noProcessLeft(t, cfg)
		if n := disposes(); n != 0 {
			t.Errorf("%d reloads of a config dir others may write", n)
		}
	})
}

// TestServeWatchesTheConfigDirItsCheckMade: a config dir absent when the
// supervisor starts, made by its check (as cmd/oca's EnsureConfigDir makes
// it), is watched: a change there reloads the server.
func TestServeWatchesTheConfigDirItsCheckMade(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "cfgmade")
	record := filepath.Join(t.TempDir(), "record")
	dir := filepath.Join(t.TempDir(), "config")
	a.cfg.ConfigDir = dir
	a.cfg.ConfigDirCheck = func() error {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		return safepath.Check(dir, safepath.Rule{Top: dir, Mine: true})
	}
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record})
	startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if err := os.WriteFile(filepath.Join(dir, "opencode.json"), []byte(`{"username":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "a dispose for opencode.json", func() bool {
		b, _ := os.ReadFile(record)
		return strings.Count(string(b), "dispose") == 1
	})
}
