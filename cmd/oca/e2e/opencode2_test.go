package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestOpencode2Preview: with npm's OpenCode 2.0 preview (lildax) as the
// accounts' OpenCode, oca names it (status, account show, doctor); `oca
// server start` makes a server V2's own discovery finds in the account's
// environment (`lildax service status`, `lildax api GET /api/health`), and
// not in another account's; a command typed as `opencode` in an account
// whose server does not run (the shim) starts that server and waits until
// it is registered, so that the command finds it and starts none of its
// own; `opencode service status` is oca's; `opencode run` and `oca login`
// say in one line that the preview has neither; nothing registers in the
// user's own state home.
func TestOpencode2Preview(t *testing.T) {
	lildax := testsys.NeedOpencode2Preview(t)
	oca := shelltest.Oca(t)
	home := t.TempDir()
	env := []string{"HOME=" + home, "USER=" + os.Getenv("USER"), "LANG=C.UTF-8", "TERM=dumb",
		"PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=" + os.TempDir()}
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(oca, args...)
		cmd.Env, cmd.Dir = env, home
		var out, errOut testsys.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := run(args...)
		if err != nil {
			t.Fatalf("oca %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	cfg := filepath.Join(home, ".config", "oca")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "accounts.toml"), []byte("opencode = \""+lildax+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ports := map[string]int{"a": testsys.FreePort(t), "b": testsys.FreePort(t)}
	for _, name := range []string{"a", "b"} {
		must("account", "add", name, "--port", strconv.Itoa(ports[name]))
		t.Cleanup(func() { run("server", "stop", name) })
	}
	url := func(name string) string { return "http://127.0.0.1:" + strconv.Itoa(ports[name]) }

	var show struct {
		Opencode     string `json:"opencode"`
		OpencodeLine string `json:"opencode_line"`
	}
	if err := json.Unmarshal([]byte(must("account", "show", "a", "--json")), &show); err != nil || show.OpencodeLine != "V2 preview" {
		t.Errorf("account show names %+v (%v), want the V2 preview", show, err)
	}

	// oca server start: V2's own discovery finds a's server in a's
	// environment, and nothing in b's.
	must("server", "start", "a")
	must("server", "wait", "a", "--timeout", testsys.OpencodeWait().String())
	if out := must("exec", "a", "--", lildax, "service", "status"); strings.TrimSpace(out) != "running "+url("a") {
		t.Errorf("lildax service status in a's environment: %q, want running %s", out, url("a"))
	}
	if out := must("exec", "a", "--", lildax, "api", "GET", "/api/health"); !strings.Contains(out, `"healthy":true`) {
		t.Errorf("lildax api GET /api/health in a's environment: %q", out)
	}
	if out := must("exec", "b", "--", lildax, "service", "status"); strings.TrimSpace(out) != "stopped" {
		t.Errorf("lildax service status in b's environment, b's server stopped: %q, want stopped", out)
	}

	// `opencode api ...` in b (the shim): b's server first, then the
	// command finds it; the registration names oca's server.
	if out := must("exec", "b", "--", "opencode", "api", "GET", "/api/health"); !strings.Contains(out, `"healthy":true`) {
		t.Errorf("opencode api GET /api/health in b: %q", out)
	}
	if out := must("exec", "b", "--", lildax, "service", "status"); strings.TrimSpace(out) != "running "+url("b") {
		t.Errorf("lildax service status in b's environment: %q, want running %s", out, url("b"))
	}
	type row struct {
		Account          string `json:"account"`
		Phase            string `json:"phase"`
		PID              int    `json:"pid"`
		Providers        []any  `json:"providers"`
		ProvidersUnknown string `json:"providers_unknown"`
	}
	// status gives the server 5 s to list the providers and says
	// "unknown" past that: a loaded machine may miss it once.
	st := testsys.Await(t, testsys.OpencodeWait(), "oca status a b --json listing both accounts' providers", func() ([]row, bool) {
		var st []row
		if err := json.Unmarshal([]byte(must("status", "a", "b", "--json")), &st); err != nil || len(st) != 2 {
			t.Fatalf("oca status a b --json: %+v %v", st, err)
		}
		return st, st[0].Providers != nil && st[1].Providers != nil
	})
	for _, s := range st {
		var reg struct {
			PID int    `json:"pid"`
			URL string `json:"url"`
		}
		b, _ := os.ReadFile(filepath.Join(home, ".local/state/oca/homes", s.Account, "opencode", "server.json"))
		if err := json.Unmarshal(b, &reg); err != nil || reg.PID != s.PID || reg.URL != url(s.Account) || s.Phase != "ready" {
			t.Errorf("%s: status %+v, registration %+v (%v): want oca's server, ready, registered", s.Account, s, reg, err)
		}
		if s.Providers == nil {
			t.Errorf("%s: providers unknown while its server runs: %s", s.Account, s.ProvidersUnknown)
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".local/state/opencode/server.json")); err == nil {
		t.Errorf("a server registered in the user's own state home")
	}

	// service status is oca's; login says what to do; doctor names it all.
	out, errOut, err := run("exec", "a", "--", "opencode", "service", "status")
	if err != nil || !strings.Contains(errOut, "oca: opencode service status: the server of a is oca's; running: oca status a") || !strings.Contains(out, "ready") {
		t.Errorf("opencode service status: %v\n%s%s", err, out, errOut)
	}
	if _, errOut, err := run("exec", "a", "--", "opencode", "run", "hi"); err == nil || !strings.Contains(errOut, "which has no TUI and no run") {
		t.Errorf("opencode run on the preview: %v %q", err, errOut)
	}
	if _, errOut, err := run("login", "a", "anthropic"); err == nil || !strings.Contains(errOut, "has no auth command") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("oca login on the preview: %v %q", err, errOut)
	}
	out, _, _ = run("doctor")
	for _, want := range []string{"(V2 preview) at " + lildax, "v2 a: OpenCode 2 in a's projects finds its server", "v2 b: OpenCode 2 in b's projects finds its server"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q:\n%s", want, out)
		}
	}
}
