package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/testsys"
)

// TestReloadStormIsCoalesced is issue 18's reload storm: 100 edits at
// 0.3 s intervals made 97 POST /global/dispose, each dropping every
// instance of the server. The edits of a storm now make one reload (at
// most one per reloadBatch), after they stop.
func TestReloadStormIsCoalesced(t *testing.T) {
	t.Parallel()
	a := newAccount(t, "storm")
	record := filepath.Join(t.TempDir(), "record")
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok", "FAKE_RECORD": record})
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	disposes := func() int { b, _ := os.ReadFile(record); return strings.Count(string(b), "dispose") }
	auth := account.AuthFile(cfg.DataHome)
	const edits = 15
	tick := time.NewTicker(300 * time.Millisecond) // the storm's own pace, not a wait
	defer tick.Stop()
	// A loaded machine may stall this test between two edits for longer
	// than reloadQuiet: the storm is then two, each coalesced.
	stalls := 0
	last := time.Now()
	for i := range edits {
		key := fmt.Sprintf(`{"anthropic":{"type":"api","key":"sk-ant-storm-%d"}}`, i)
		if err := os.WriteFile(auth, []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
		if i > 0 && time.Since(last) > reloadQuiet*9/10 {
			stalls++
		}
		last = time.Now()
		<-tick.C
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "a reload for the storm's edits, coalesced", func() bool {
		return disposes() >= 1 && strings.Contains(s.log.String(), "one reload for them all")
	})
	// One reload, two where the storm outlasted a batch or the supervisor
	// saw it late; one more for each stall of the writer. (Before, each
	// edit was a reload.)
	if n := disposes(); n > 2+stalls {
		t.Errorf("%d edits made %d disposes (the writer stalled %d times); want them coalesced:\n%s", edits, n, stalls, s.log.String())
	}
}
