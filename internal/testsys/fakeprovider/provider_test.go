package fakeprovider

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, p *Provider, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.URL()+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readStream reads a server-sent event stream of chat completion chunks and
// returns the content, the finish reason and whether [DONE] ended it.
func readStream(t *testing.T, r io.Reader) (content, finish string, done bool, pieces int) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var c struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta        struct{ Content string } `json:"delta"`
				FinishReason *string                  `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		if c.Object != "chat.completion.chunk" || len(c.Choices) != 1 {
			t.Fatalf("chunk %q", data)
		}
		if c.Choices[0].Delta.Content != "" {
			pieces++
		}
		content += c.Choices[0].Delta.Content
		if c.Choices[0].FinishReason != nil {
			finish = *c.Choices[0].FinishReason
		}
	}
	return
}

func TestStreamedReplyAndRecord(t *testing.T) {
	p := Start(t, Options{})
	body := `{"model":"m","stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"ping"}]}]}`
	resp := post(t, p, "sk-test-A", body)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	content, finish, done, _ := readStream(t, resp.Body)
	if content != DefaultReply || finish != "stop" || !done {
		t.Errorf("stream: content %q, finish %q, [DONE] %v", content, finish, done)
	}
	reqs := p.Wait(t, 10*time.Second, "the request ended", func(r []Request) bool { return len(r) == 1 && !r[0].End.IsZero() })
	r := reqs[0]
	if r.Key() != "sk-test-A" || r.Authorization != "Bearer sk-test-A" || r.Prompt != "ping" || !r.Stream || r.Model != "m" || r.Canceled {
		t.Errorf("recorded %+v", r)
	}
	// This test process opened the connection.
	if !r.Peer.Has(os.Getpid()) || len(r.Peer.Pids) != 1 {
		t.Errorf("peer = %+v, want this process %d", r.Peer, os.Getpid())
	}
}

func TestNonStreamedReplyAndModels(t *testing.T) {
	p := Start(t, Options{Reply: "hello there"})
	resp := post(t, p, "sk-B", `{"model":"m","messages":[{"role":"user","content":"title please"}]}`)
	var got struct {
		Choices []struct {
			Message struct{ Role, Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Choices) != 1 || got.Choices[0].Message.Content != "hello there" {
		t.Errorf("non-streamed reply %+v, %v", got, err)
	}
	resp.Body.Close()

	resp, err := http.Get(p.URL() + "/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"id":"m"`) {
		t.Errorf("/v1/models = %s", b)
	}
	reqs := p.Requests()
	if len(reqs) != 2 || reqs[0].Prompt != "title please" || reqs[0].Stream || reqs[1].Path != "/v1/models" || reqs[1].Authorization != "" {
		t.Errorf("recorded:\n%s", Describe(reqs))
	}
	if len(p.Chats()) != 1 {
		t.Errorf("Chats = %d, want 1", len(p.Chats()))
	}
}

// TestPeerIsAnotherProcess: a connection opened by a child process (bash's
// /dev/tcp) is that child's, not the test's.
func TestPeerIsAnotherProcess(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	p := Start(t, Options{})
	script := `exec 3<>/dev/tcp/127.0.0.1/` + strconv.Itoa(p.Port()) + `
printf 'GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-child\r\nConnection: close\r\n\r\n' >&3
while IFS= read -r l <&3 || [ -n "$l" ]; do printf '%s\n' "$l"; done` // a builtin: no child inherits the socket
	cmd := exec.Command(bash, "-c", script)
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"object":"list"`) {
		t.Fatalf("bash /dev/tcp: %v\n%s", err, out)
	}
	reqs := p.Requests()
	if len(reqs) != 1 {
		t.Fatalf("recorded:\n%s", Describe(reqs))
	}
	r := reqs[0]
	if r.Key() != "sk-child" || !r.Peer.Has(cmd.Process.Pid) || r.Peer.Has(os.Getpid()) {
		t.Errorf("peer %+v, want bash's pid %d", r.Peer, cmd.Process.Pid)
	}
	if len(r.Peer.Cmdlines) != 1 || r.Peer.Cmdlines[0][0] != bash {
		t.Errorf("command lines %q", r.Peer.Cmdlines)
	}
}

// TestSlowReply: Chunks pieces spread over Over, each flushed as it is
// sent; a client that leaves midway is recorded as canceled.
func TestSlowReply(t *testing.T) {
	p := Start(t, Options{Reply: "one two three four", Chunks: 4, Over: 1500 * time.Millisecond})
	begin := time.Now()
	resp := post(t, p, "k", `{"model":"m","stream":true,"messages":[{"role":"user","content":"slow"}]}`)
	content, _, done, pieces := readStream(t, resp.Body)
	resp.Body.Close()
	took := time.Since(begin)
	if content != "one two three four" || !done || pieces != 4 {
		t.Errorf("content %q in %d pieces, [DONE] %v", content, pieces, done)
	}
	if took < 1500*time.Millisecond {
		t.Errorf("the reply took %s, want at least 1.5s", took)
	}

	// The first piece comes at once; the client leaves after it.
	resp = post(t, p, "k", `{"model":"m","stream":true,"messages":[{"role":"user","content":"leave"}]}`)
	sc := bufio.NewScanner(resp.Body)
	got := 0
	for got < 2 && sc.Scan() { // the role chunk, then the first piece
		if strings.HasPrefix(sc.Text(), "data: ") {
			got++
		}
	}
	resp.Body.Close()
	reqs := p.Wait(t, 10*time.Second, "the second request ended, canceled", func(r []Request) bool {
		return len(r) == 2 && !r[1].End.IsZero()
	})
	if !reqs[1].Canceled || reqs[0].Canceled {
		t.Errorf("canceled: first %v, second %v; want false, true", reqs[0].Canceled, reqs[1].Canceled)
	}
	if d := reqs[1].End.Sub(reqs[1].Start); d > time.Second {
		t.Errorf("the canceled reply ran on for %s", d)
	}
}

func TestConfigAndAuth(t *testing.T) {
	p := Start(t, Options{})
	home := t.TempDir()
	p.WriteConfig(t, home)
	var cfg struct {
		Provider map[string]struct {
			NPM     string `json:"npm"`
			Options struct {
				BaseURL string `json:"baseURL"`
			} `json:"options"`
			Models map[string]any `json:"models"`
		} `json:"provider"`
		Model string `json:"model"`
	}
	b, err := os.ReadFile(filepath.Join(home, ".config", "opencode", "opencode.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	f := cfg.Provider["fake"]
	if cfg.Model != "fake/m" || f.NPM != "@ai-sdk/openai-compatible" || f.Options.BaseURL != p.URL() || f.Models["m"] == nil {
		t.Errorf("config %s", b)
	}
	data := t.TempDir()
	WriteAuth(t, data, "sk-x-A")
	b, err = os.ReadFile(filepath.Join(data, "opencode", "auth.json"))
	if err != nil || string(b) != `{"fake":{"key":"sk-x-A","type":"api"}}` {
		t.Errorf("auth.json = %s, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(data, "opencode", "auth.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("auth.json mode: %v %v", fi, err)
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want []string
	}{
		{"abcd", 2, []string{"ab", "cd"}},
		{"abc", 5, []string{"a", "b", "c"}},
		{"héllo", 1, []string{"héllo"}},
		{"日本語", 3, []string{"日", "本", "語"}},
		{"", 3, []string{""}},
	} {
		if got := split(c.s, c.n); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("split(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
