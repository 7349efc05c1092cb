package editors

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// oca's shims where no hook ever ran: a login profile's PATH with
// `$(oca shims)` first, and commands started the way an editor, cron or a
// git hook starts them (env -i, sh -c). The real OpenCode answers from the
// fake provider, which sees each request's key and process.

// defaultKey is the key in the user's own data home: the plain OpenCode's.
const defaultKey = "sk-oca-test-default"

// loginWorld is a realWorld with the user's own OpenCode login, a project
// whose file nobody allowed, and the shim directory as `oca shims` gives it.
func loginWorld(t *testing.T) (*shelltest.RealWorld, string) {
	t.Helper()
	w := shelltest.NewRealWorld(t, fakeprovider.Options{}, "a")
	fakeprovider.WriteAuth(t, w.Path(".local/share"), defaultKey)
	w.Mkdir("unallowed")
	data := shelltest.MustRead(t, w.Path("pa/.opencode-account.toml"))
	if err := os.WriteFile(w.Path("unallowed/.opencode-account.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	shims := strings.TrimSpace(w.Oca("", "shims"))
	if shims != w.Path(".local/state/oca/shim") {
		t.Fatalf("oca shims printed %q", shims)
	}
	return w, shims
}

// bare is a command run as a login session with no hook runs it: env -i,
// the login profile's PATH (the shims first, then the real OpenCode's
// directory), nothing of oca's in the environment.
func bare(w *shelltest.RealWorld, shims string, args ...string) *exec.Cmd {
	env := []string{
		"HOME=" + w.Home,
		"PATH=" + shims + ":" + filepath.Dir(w.Wrap) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb", "LANG=C.UTF-8", "USER=tester",
		"OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_AUTOUPDATE=1",
	}
	return exec.Command("env", append(append([]string{"-i"}, env...), args...)...)
}

// TestShimsWithoutHook: `sh -c 'cd DIR && opencode run ...'` with no hook,
// in an allowed project, outside projects, and in a project nobody allowed;
// and Zed's agent server, `opencode acp`, started from the Dock.
func TestShimsWithoutHook(t *testing.T) {
	w, shims := loginWorld(t)
	reply := w.Prov.Reply()
	run := func(t *testing.T, dir, prompt string) (string, string) {
		t.Helper()
		cmd := bare(w, shims, "sh", "-c", fmt.Sprintf("cd %s && opencode run %s", w.Path(dir), prompt))
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

	// Three lanes side by side, each its own OpenCodes: the account's
	// server; the plain OpenCode on the user's own data home (one at a
	// time there); and acp on the account's. One after another they took
	// up to 594 s of go test's 600 with a second copy of the suite loading
	// the machine.
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
			if r.Key() != defaultKey || len(r.Peer.Cmdlines) != 1 || strings.Join(r.Peer.Cmdlines[0], " ") != w.Real+" run "+prompt {
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

	// In the same world (each world costs starts of the real OpenCode).
	t.Run("Zed's ACP recipe", func(t *testing.T) {
		t.Parallel()
		testZedACPRecipe(t, w, shims)
	})
}

// testZedACPRecipe: the README's Zed entry (agent_servers: the shim's
// `opencode acp`), started as Zed starts an agent server: in the project
// directory, with the environment of an app started from the Dock (no
// hook), spoken to in ACP over stdin and stdout. The same with `oca exec --
// opencode acp`, the other recipe.
func testZedACPRecipe(t *testing.T, w *shelltest.RealWorld, shims string) {
	for _, recipe := range []struct {
		name string
		argv []string
	}{
		{"shim", []string{filepath.Join(shims, "opencode"), "acp"}},
		{"oca exec", []string{w.Bin, "exec", "--", "opencode", "acp"}},
	} {
		t.Run(recipe.name, func(t *testing.T) {
			cmd := bare(w, shims, recipe.argv...)
			cmd.Dir = w.Path("pa")
			prompt := "ping-acp-" + strings.ReplaceAll(recipe.name, " ", "-")
			pid := acpSession(t, cmd, w.Path("pa"), prompt)
			for _, r := range w.Answered(t, prompt) {
				// On V1, acp cannot attach: its own OpenCode, with the
				// account's environment, sends the account's key.
				if r.Key() != w.Keys["a"] || !r.Peer.Has(pid) {
					t.Errorf("not a request of acp (%d) with A's key:\n%s", pid, fakeprovider.Describe([]fakeprovider.Request{r}))
				}
			}
		})
	}
}

// acpSession starts cmd, an ACP agent, and goes through initialize,
// session/new (in dir) and session/prompt with prompt; it returns the pid
// of the OpenCode that answered (the shim and oca exec become it).
func acpSession(t *testing.T, cmd *exec.Cmd, dir, prompt string) int {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan map[string]any, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
	}()
	call := func(id int, method string, params any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			t.Fatalf("%s: %v; stderr: %s", method, err, stderr.String())
		}
		deadline := time.After(testsys.OpencodeWait())
		for {
			select {
			case m, ok := <-lines:
				if !ok {
					t.Fatalf("%s: the agent closed stdout; stderr: %s", method, stderr.String())
				}
				if got, _ := m["id"].(float64); m["method"] == nil && int(got) == id {
					if m["error"] != nil {
						t.Fatalf("%s: %v", method, m["error"])
					}
					res, _ := m["result"].(map[string]any)
					return res
				}
			case <-deadline:
				t.Fatalf("%s: no answer within %v; stderr: %s", method, testsys.OpencodeWait(), stderr.String())
			}
		}
	}
	init := call(0, "initialize", map[string]any{
		"protocolVersion":    1,
		"clientCapabilities": map[string]any{"fs": map[string]bool{"readTextFile": false, "writeTextFile": false}, "terminal": false},
		"clientInfo":         map[string]string{"name": "zed", "version": "0.0.0-test"},
	})
	if v, _ := init["protocolVersion"].(float64); v != 1 {
		t.Errorf("initialize: protocolVersion %v, want 1", init["protocolVersion"])
	}
	sess := call(1, "session/new", map[string]any{"cwd": dir, "mcpServers": []any{}})
	id, _ := sess["sessionId"].(string)
	if id == "" {
		t.Fatalf("session/new: no sessionId in %v", sess)
	}
	done := call(2, "session/prompt", map[string]any{"sessionId": id, "prompt": []any{map[string]string{"type": "text", "text": prompt}}})
	if done["stopReason"] != "end_turn" {
		t.Errorf("session/prompt: stopReason %v, want end_turn", done["stopReason"])
	}
	return cmd.Process.Pid
}
