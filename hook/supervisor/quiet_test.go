package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/testsys"
)

// TestServerRunsWhereNothingAboveIsLoaded is issue 17's item 17: the
// server ran in the account's state dir, and a reload's request that named
// no directory built an instance there, whose config OpenCode loads from
// every directory above it: /tmp/.opencode/plugin/ ran in every account's
// server when HOME was under /tmp. Here the state dir lies below /tmp
// (mode 1777): the server runs in /, and every request of oca's to an
// instance route, a reload's included, names its directory.
func TestServerRunsWhereNothingAboveIsLoaded(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "quiet")
	if !strings.HasPrefix(a.cfg.StateDir, "/tmp/") {
		t.Skipf("the state dir %s is not below /tmp", a.cfg.StateDir)
	}
	dir := t.TempDir()
	record, instances := filepath.Join(dir, "record"), filepath.Join(dir, "instances")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record, "FAKE_INSTANCES": instances})
	s := startServe(t, cfg)
	st := waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if wd, err := procfs.Cwd(st.OpencodePID); err != nil || wd != "/" {
		t.Errorf("OpenCode runs in %q (%v), want /", wd, err)
	}
	if !strings.Contains(s.log.String(), "opencode runs in /") {
		t.Errorf("the log does not say where OpenCode runs, and why:\n%s", s.log.String())
	}
	// A login: a reload, which first asks which sessions are busy.
	if err := os.WriteFile(account.AuthFile(cfg.DataHome), []byte(`{"anthropic":{"type":"api","key":"sk-ant-quiet"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "a reload", func() bool {
		b, _ := os.ReadFile(record)
		return strings.Contains(string(b), "dispose")
	})
	b, err := os.ReadFile(instances)
	if err != nil || !strings.Contains(string(b), "GET /experimental/session") {
		t.Fatalf("no instance request recorded: %q %v", b, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] == "cwd" {
			t.Errorf("a request of oca's names no directory: %s", line)
		}
		// ?directory= would also filter the sessions listed: the one
		// for all of them names its instance in a header.
		if len(f) >= 3 && f[1] == "/experimental/session" && f[2] != "header" {
			t.Errorf("the sessions are asked for with a directory filter: %s", line)
		}
	}
}
