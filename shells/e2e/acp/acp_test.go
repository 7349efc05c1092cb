package acp

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestZedACPRecipe: the README's Zed entry (agent_servers: the shim's
// `opencode acp`), started as Zed starts an agent server: in the project
// directory, with the environment of an app started from the Dock (no
// hook: a login profile's shims first on PATH, as shells/e2e/editors has
// it), spoken to in ACP over stdin and stdout. The same with `oca exec --
// opencode acp`, the other recipe.
func TestZedACPRecipe(t *testing.T) {
	w, shims := shelltest.LoginWorld(t)
	for _, recipe := range []struct {
		name string
		argv []string
	}{
		{"shim", []string{filepath.Join(shims, "opencode"), "acp"}},
		{"oca exec", []string{w.Bin, "exec", "--", "opencode", "acp"}},
	} {
		t.Run(recipe.name, func(t *testing.T) {
			cmd := w.Bare(shims, recipe.argv...)
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
