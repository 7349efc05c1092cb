package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestPortHeldByAnOrphanSupervisor is issue 17's item 2: the port of an
// account is held by the OpenCode of a supervisor whose account was
// renamed by hand (here: one that never asks, as an oca of before that
// was noticed). doctor suggested stopping that OpenCode, which its
// supervisor restarts at once; it names the supervisor, and suggests
// stopping it.
func TestPortHeldByAnOrphanSupervisor(t *testing.T) {
	port := testsys.FreePort(t)
	env, _ := world(t, port)
	dir := t.TempDir()
	cfg := supervisor.Config{
		Account: "old", Port: port, DataHome: filepath.Join(dir, "data"), StateDir: filepath.Join(dir, "state"),
		Opencode: shelltest.FakeOpencode(t), Password: "orphan-password-0123456789",
	}
	cfg.Env = supervisor.BuildEnv(os.Environ(), cfg, map[string]string{"FAKE_MODE": "ok"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- supervisor.Serve(ctx, cfg, nil) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return")
		}
	}()
	testsys.Eventually(t, testsys.OpencodeWait(), "the orphan's server ready", func() bool {
		st, err := supervisor.ReadStatus(cfg.StateDir)
		return err == nil && st.Phase == supervisor.PhaseReady
	})
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash"})
	f := finding(fs, "server work", "is held by pid")
	if f == nil {
		t.Fatalf("no finding of the port: %+v", fs)
	}
	sup := itoa(os.Getpid())
	if !strings.Contains(f.What, "supervisor pid "+sup) || !strings.HasPrefix(f.Fix, "kill "+sup+" ") {
		t.Errorf("doctor does not name the supervisor to stop: %+v", f)
	}
	if strings.Contains(f.Fix, "stop that process") {
		t.Errorf("doctor suggests stopping the OpenCode its supervisor restarts: %s", f.Fix)
	}
}
