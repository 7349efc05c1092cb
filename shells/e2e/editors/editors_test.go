package editors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// oca's shims where no hook ever ran: a login profile's PATH with
// `$(oca shims)` first, and commands started the way an editor, cron or a
// git hook starts them (env -i, sh -c). The real OpenCode answers from the
// fake provider, which sees each request's key and process.

// TestShimsWithoutHook: `sh -c 'cd DIR && opencode run ...'` with no hook,
// in an allowed project, outside projects, and in a project nobody allowed.
func TestShimsWithoutHook(t *testing.T) {
	w, shims := shelltest.LoginWorld(t)
	reply := w.Prov.Reply()
	run := func(t *testing.T, dir, prompt string) (string, string) {
		t.Helper()
		cmd := w.Bare(shims, "sh", "-c", fmt.Sprintf("cd %s && opencode run %s", w.Path(dir), prompt))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("opencode run in ~/%s: %v\nstdout: %s\nstderr: %s", dir, err, out, stderr.String())
		}
		if !strings.Contains(string(out), reply) {
			t.Errorf("opencode run in ~/%s printed %q, not the reply %q", dir, out, reply)
		}
		return string(out), stderr.String()
	}

	// Two lanes side by side, each its own OpenCodes: the account's
	// server, and the plain OpenCode on the user's own data home (one at
	// a time there). One after another, with Zed's acp (now
	// shells/e2e/acp), they took up to 594 s of go test's 600 with a
	// second copy of the suite loading the machine.
	t.Run("allowed project: the account's server", func(t *testing.T) {
		t.Parallel()
		_, stderr := run(t, "pa", "ping-bare-project")
		if strings.Contains(stderr, "oca allow") {
			t.Errorf("a warning in an allowed project: %q", stderr)
		}
		shelltest.FromServer(t, "opencode run in ~/pa with no hook", w.Answered(t, "ping-bare-project"), w.ServerPid(t, "a"), w.Keys["a"])
	})

	// The plain OpenCode: the user's own key, from the OpenCode that run
	// started (no server of oca's).
	plain := func(t *testing.T, prompt string) {
		t.Helper()
		for _, r := range w.Answered(t, prompt) {
			if r.Key() != shelltest.DefaultKey || len(r.Peer.Cmdlines) != 1 || strings.Join(r.Peer.Cmdlines[0], " ") != w.Real+" run "+prompt {
				t.Errorf("not the plain OpenCode's request:\n%s", fakeprovider.Describe([]fakeprovider.Request{r}))
			}
		}
	}

	t.Run("the plain OpenCode", func(t *testing.T) {
		t.Parallel()
		t.Run("outside projects", func(t *testing.T) {
			_, stderr := run(t, "plain", "ping-bare-plain")
			if strings.Contains(stderr, "oca:") {
				t.Errorf("oca said something outside projects: %q", stderr)
			}
			plain(t, "ping-bare-plain")
		})

		t.Run("unallowed project: one warning, the default identity", func(t *testing.T) {
			_, stderr := run(t, "unallowed", "ping-bare-unallowed")
			file := w.Path("unallowed/.opencode-account.toml")
			if n := strings.Count(stderr, "oca: "); n != 1 || !strings.Contains(stderr, file+" wants account a; if you trust it, run: oca allow "+w.Path("unallowed")) {
				t.Errorf("stderr: %q; want one line naming %s and oca allow", stderr, file)
			}
			plain(t, "ping-bare-unallowed")
		})
	})
}
