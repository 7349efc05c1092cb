package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/testsys"
)

// TestStatusOnFullDisk: with the state filesystem full (a real 64 KiB
// tmpfs, filled), the supervisor cannot write status.json; OpenCode runs
// and answers all the same. ReadStatus must not say "stopped": it reads
// the phase from the lock and the processes, and says why; the old file
// stays whole; Stop still stops it.
func TestStatusOnFullDisk(t *testing.T) {
	a := newAccount(t, "full")
	cfg := a.cfg
	cfg.StateDir = filepath.Join(testsys.Tmpfs(t, "64k"), "full")
	for _, d := range []string{"leases", "tmp"} {
		if err := os.MkdirAll(filepath.Join(cfg.StateDir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// What an earlier run left: a whole status file, phase stopped.
	if err := writeStatus(cfg.StateDir, Status{Account: cfg.Account, Phase: PhaseStopped, Port: cfg.Port, URL: opencode.URL(cfg.Port)}); err != nil {
		t.Fatal(err)
	}
	old := readFile(t, filepath.Join(cfg.StateDir, statusName))
	testsys.Fill(t, filepath.Dir(cfg.StateDir))
	stopAtEnd(t, cfg)
	if started, err := Ensure(cfg, bins.ocaserve, serveArgs(t, cfg, nil)...); !started || err != nil {
		t.Fatalf("Ensure = %v, %v", started, err)
	}
	testsys.Eventually(t, 60*time.Second, "OpenCode answers", func() bool {
		ok, _ := opencode.Health(context.Background(), cfg.Port, cfg.Password)
		return ok
	})
	var st Status
	testsys.Eventually(t, 30*time.Second, "status ready", func() bool {
		var err error
		st, err = ReadStatus(cfg.StateDir)
		return err == nil && st.Phase == PhaseReady
	})
	if st.SupervisorPID != statedir.LockHolder(cfg.StateDir) || st.OpencodePID == 0 || st.Port != cfg.Port ||
		!strings.Contains(st.LastError, "could not be written") {
		t.Errorf("status from the processes: %+v", st)
	}
	if got := readFile(t, filepath.Join(cfg.StateDir, statusName)); got != old {
		t.Errorf("status.json is not the old one, whole:\n%s", got)
	}
	if err := Stop(cfg.StateDir, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseStopped {
		t.Errorf("after stop: %+v", st)
	}
	noProcessLeft(t, cfg)
}
