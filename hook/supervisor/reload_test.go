package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/fakeprovider"
)

// api sends a JSON request to the account's OpenCode server, for the
// project directory dir ("" for the server's own), and decodes the answer
// into out (nil: discarded).
func api(t testing.TB, cfg Config, method, path, dir string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := opencode.URL(cfg.Port) + path
	if dir != "" {
		u += "?directory=" + url.QueryEscape(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*testsys.OpencodeWait())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(opencode.User, cfg.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Errorf("%s %s: %v: %.300s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// providerConfig is an OpenCode config that declares two providers, fake
// and fake2, both served by p.
func providerConfig(p *fakeprovider.Provider, extra string) string {
	prov := func(name string) string {
		return fmt.Sprintf(`%q: {"npm": "@ai-sdk/openai-compatible", "name": %q, "options": {"baseURL": %q}, "models": {"m": {"name": "m"}}}`, name, name, p.URL())
	}
	return `{"$schema": "https://opencode.ai/config.json", "model": "fake/m", "small_model": "fake/m", "share": "disabled", "autoupdate": false` + extra +
		`, "provider": {` + prov("fake") + `, ` + prov("fake2") + `}}`
}

// words is a reply of n words and a last one, END.
func words(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%02d ", i)
	}
	return b.String() + "END"
}

// asked is the chat requests whose prompt holds text.
func asked(reqs []fakeprovider.Request, text string) []fakeprovider.Request {
	var out []fakeprovider.Request
	for _, r := range reqs {
		if r.Path == "/v1/chat/completions" && strings.Contains(r.Prompt, text) {
			out = append(out, r)
		}
	}
	return out
}

// prompt sends text to a new session of the account's server in dir, with
// the given provider, and returns the reply's text and its error, if any.
func prompt(t testing.TB, cfg Config, dir, provider, text string) (reply string, errName string) {
	t.Helper()
	var sess struct {
		ID string `json:"id"`
	}
	if code := api(t, cfg, http.MethodPost, "/session", dir, map[string]any{}, &sess); code != http.StatusOK || sess.ID == "" {
		t.Fatalf("POST /session: %d %+v", code, sess)
	}
	var msg struct {
		Info struct {
			Error *struct {
				Name string `json:"name"`
			} `json:"error"`
		} `json:"info"`
		Parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"parts"`
	}
	api(t, cfg, http.MethodPost, "/session/"+sess.ID+"/message", dir, map[string]any{
		"model": map[string]string{"providerID": provider, "modelID": "m"},
		"parts": []any{map[string]string{"type": "text", "text": text}},
	}, &msg)
	for _, p := range msg.Parts {
		if p.Type == "text" {
			reply += p.Text
		}
	}
	if msg.Info.Error != nil {
		errName = msg.Info.Error.Name
	}
	return reply, errName
}

// TestRealReloadKeepsStreamingReply: with the real OpenCode, a reply
// streamed over several seconds while auth.json gains a key for another
// provider completes whole, and the new key is used afterwards.
func TestRealReloadKeepsStreamingReply(t *testing.T) {
	t.Parallel()
	p := fakeprovider.Start(t, fakeprovider.Options{Reply: words(40), Chunks: 40, Over: 8 * time.Second})
	a := newAccount(t, "stream")
	cfg := a.cfg
	cfg.Opencode = testsys.NeedOpencode(t)
	cfg.StopGrace = 2 * time.Second
	cfg.ConfigDir = filepath.Join(t.TempDir(), "config")
	os.MkdirAll(cfg.ConfigDir, 0o700)
	if err := os.WriteFile(filepath.Join(cfg.ConfigDir, "opencode.json"), []byte(providerConfig(p, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := account.AuthFile(cfg.DataHome)
	if err := os.WriteFile(auth, []byte(`{"fake":{"type":"api","key":"key-fake-1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Env = BuildEnv(os.Environ(), cfg, offlineEnv)
	s := startServe(t, cfg)
	waitReady(t, cfg, testsys.OpencodeWait())
	project := t.TempDir()

	type result struct{ reply, err string }
	done := make(chan result, 1)
	go func() {
		r, e := prompt(t, cfg, project, "fake", "tell me a long story")
		done <- result{r, e}
	}()
	// Once the reply streams, a key for another provider arrives.
	p.Wait(t, testsys.OpencodeWait(), "the reply streaming", func(reqs []fakeprovider.Request) bool {
		return len(asked(reqs, "long story")) > 0
	})
	time.Sleep(time.Second)
	if err := os.WriteFile(auth, []byte(`{"fake":{"type":"api","key":"key-fake-1"},"fake2":{"type":"api","key":"key-fake2-NEW"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(testsys.BeforeDeadline(t, 3*testsys.OpencodeWait())):
		t.Fatal("no reply")
	}
	t.Logf("reply %q err %q; provider saw:\n%s", res.reply, res.err, fakeprovider.Describe(p.Requests()))
	if res.err != "" || !strings.HasSuffix(strings.TrimSpace(res.reply), p.Reply()) {
		t.Errorf("the reply streamed during the reload: %q (error %q), want it whole: %q", res.reply, res.err, p.Reply())
	}
	for _, r := range asked(p.Requests(), "long story") {
		if r.Canceled || r.End.IsZero() {
			t.Errorf("the provider's stream was cut (canceled %v, ended %v)", r.Canceled, !r.End.IsZero())
		}
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "the reload", func() bool { return strings.Contains(s.log.String(), "the server reloaded them") })
	// It waited: for the busy session, or, on a loaded machine, for a
	// server too slow to say which sessions are busy (which counts as busy).
	// Or, on a loaded machine, the supervisor saw the change only once the
	// replies had ended (the reply and the title's, which streams as long):
	// then there was nothing to wait for. A reload while they all streamed
	// that did not wait is the fault.
	if log := s.log.String(); !strings.Contains(log, "credentials or config changed; waiting until") {
		at, ok := logTime(log, "the server reloaded them")
		var ends []time.Time
		for _, r := range asked(p.Requests(), "long story") {
			ends = append(ends, r.End)
		}
		if !ok || len(ends) == 0 || at.Before(slices.MinFunc(ends, time.Time.Compare)) {
			t.Errorf("the reload did not wait for the streaming reply (replies ended %v):\n%s", ends, log)
		} else {
			t.Logf("the change was seen after the replies ended (%v; reload at %v): nothing to wait for", ends, at)
		}
	}
	// Afterwards the new key is used, in the same project.
	p.SetOptions(fakeprovider.Options{Reply: words(2)})
	reply, errName := prompt(t, cfg, project, "fake2", "and another")
	// The small model (a title) may ask fake with its old key; the prompt
	// itself went to fake2, with the new one.
	var keys []string
	for _, r := range asked(p.Requests(), "and another") {
		if r.Key() == "key-fake2-NEW" {
			return
		}
		keys = append(keys, r.Key())
	}
	t.Errorf("after the reload, fake2 was never sent the new key (keys sent: %q; reply %q, error %q)", keys, reply, errName)
}

// TestRealConfigDirPerAccount: an account whose config dir declares a
// provider and a username has them in its server's GET /config; the other
// account's server has neither. A change under the config dir reaches the
// running server.
func TestRealConfigDirPerAccount(t *testing.T) {
	t.Parallel()
	p := fakeprovider.Start(t, fakeprovider.Options{})
	serve := func(name, config string) Config {
		a := newAccount(t, name)
		cfg := a.cfg
		cfg.Opencode = testsys.NeedOpencode(t)
		cfg.StopGrace = 2 * time.Second
		cfg.ConfigDir = filepath.Join(t.TempDir(), "config")
		os.MkdirAll(cfg.ConfigDir, 0o700)
		if config != "" {
			if err := os.WriteFile(filepath.Join(cfg.ConfigDir, "opencode.json"), []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg.Env = BuildEnv(os.Environ(), cfg, offlineEnv)
		startServe(t, cfg)
		return cfg
	}
	work := serve("work", providerConfig(p, `, "username": "alice-at-work"`))
	home := serve("home", "")
	waitReady(t, work, testsys.OpencodeWait())
	waitReady(t, home, testsys.OpencodeWait())
	if _, body := get(t, work, "/config", work.Password); !strings.Contains(body, `"username":"alice-at-work"`) || !strings.Contains(body, p.URL()) {
		t.Errorf("work's GET /config lacks its config dir's username or provider: %.500s", body)
	}
	if _, body := get(t, home, "/config", home.Password); strings.Contains(body, "alice-at-work") || strings.Contains(body, p.URL()) {
		t.Errorf("home's GET /config shows work's config: %.500s", body)
	}
	// Edited while the server runs: the next GET /config shows it.
	if err := os.WriteFile(filepath.Join(home.ConfigDir, "opencode.json"), []byte(`{"username": "alice-at-home"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, testsys.OpencodeWait(), "home's new username in GET /config", func() bool {
		_, body := get(t, home, "/config", home.Password)
		return strings.Contains(body, `"username":"alice-at-home"`)
	})
}

// logTime is the time of the first line of a supervisor's log that holds
// text (the log package's local date and time, to the microsecond).
func logTime(log, text string) (time.Time, bool) {
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, text) && len(line) > 26 {
			at, err := time.ParseInLocation("2006/01/02 15:04:05.000000", line[:26], time.Local)
			return at, err == nil
		}
	}
	return time.Time{}, false
}
