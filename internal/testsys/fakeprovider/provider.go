// Package fakeprovider is a test fixture, for tests only: a local
// OpenAI-compatible model provider on 127.0.0.1, so that the real OpenCode
// answers prompts offline. It answers POST /v1/chat/completions with a short
// reply (streamed as server-sent events when the request asks for a stream,
// optionally chunk by chunk over a while) and GET /v1/models, and records
// every request: its Authorization header, its prompt, and which local
// process opened the connection (the client's side found by nettcp.Peer,
// its inode among /proc/*/fd).
//
// A test declares the provider in OpenCode's config with Config (or
// WriteConfig, in a HOME's ~/.config/opencode/opencode.json) and gives each
// data home a key with WriteAuth:
//
//	{"provider": {"fake": {"npm": "@ai-sdk/openai-compatible", "name": "Fake",
//	  "options": {"baseURL": "http://127.0.0.1:PORT/v1"},
//	  "models": {"m": {"name": "m"}}}}, "model": "fake/m"}
//
// and DATA_HOME/opencode/auth.json: {"fake": {"type": "api", "key": "sk-…"}}.
package fakeprovider

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
	"github.com/oca-sh/oca/internal/testsys"
)

// ProviderID and ModelID name the fake in OpenCode's config: the model is
// "fake/m".
const (
	ProviderID = "fake"
	ModelID    = "m"
)

// DefaultReply is what the fake answers when Options.Reply is empty.
const DefaultReply = "pong from the fake provider"

// Options shape the fake's answers.
type Options struct {
	Reply  string        // the assistant's text; DefaultReply when empty
	Chunks int           // how many pieces a streamed reply comes in; 1 when zero or less
	Over   time.Duration // the pieces are spread evenly over this long (0: at once)
}

// Peer is the local process that opened a request's connection.
type Peer struct {
	Port     int        // the client's source port
	Pids     []int      // every process holding the client's socket (one, unless it was inherited)
	Cmdlines [][]string // their command lines, as /proc/PID/cmdline has them
	Err      string     // why the lookup found nobody, if it did not
}

// Has tells whether pid holds the connection.
func (p Peer) Has(pid int) bool {
	for _, q := range p.Pids {
		if q == pid {
			return true
		}
	}
	return false
}

// Request is one request the fake received.
type Request struct {
	Method, Path  string
	Authorization string // the header as sent
	Model         string // the body's model
	Stream        bool   // the body asked for a stream
	Prompt        string // the text of the last user message
	Body          []byte
	Peer          Peer
	Start, End    time.Time // End is zero while the reply is still being written
	Canceled      bool      // the client went away before the reply ended
}

// Key is the API key the request carried (Authorization without "Bearer ").
func (r Request) Key() string { return strings.TrimPrefix(r.Authorization, "Bearer ") }

// Provider is a running fake provider.
type Provider struct {
	opt  Options
	port int
	srv  *http.Server
	ln   net.Listener

	mu   sync.Mutex
	reqs []*Request
	seen chan struct{} // closed and replaced at every change of reqs
}

type connKey struct{}

// Start runs a fake provider on a free port of 127.0.0.1 until the test
// ends.
func Start(t testing.TB, opt Options) *Provider {
	t.Helper()
	p, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// New runs a fake provider on a free port of 127.0.0.1; Close stops it.
func New(opt Options) (*Provider, error) {
	opt = opt.withDefaults()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: listening on 127.0.0.1: %w", err)
	}
	p := &Provider{opt: opt, ln: ln, port: ln.Addr().(*net.TCPAddr).Port, seen: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", p.models)
	mux.HandleFunc("POST /v1/chat/completions", p.chat)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.record(r, nil)
		http.Error(w, `{"error":{"message":"the fake provider has no `+r.Method+" "+r.URL.Path+`"}}`, http.StatusNotFound)
	})
	p.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connPeer{conn: c})
		},
	}
	go p.srv.Serve(ln)
	return p, nil
}

// Close stops the provider; replies still streaming are cut off.
func (p *Provider) Close() { p.srv.Close() }

// Port is the port the provider listens on.
func (p *Provider) Port() int { return p.port }

// URL is the provider's base URL, as OpenCode's config wants it:
// http://127.0.0.1:PORT/v1.
func (p *Provider) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) + "/v1" }

// Reply is the text the provider answers with.
func (p *Provider) Reply() string { return p.options().Reply }

// SetOptions changes the answers to the requests still to come.
func (p *Provider) SetOptions(opt Options) {
	opt = opt.withDefaults()
	p.mu.Lock()
	p.opt = opt
	p.mu.Unlock()
}

func (p *Provider) options() Options {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opt
}

func (o Options) withDefaults() Options {
	if o.Reply == "" {
		o.Reply = DefaultReply
	}
	if o.Chunks < 1 {
		o.Chunks = 1
	}
	return o
}

// Config is an OpenCode config (opencode.json) that declares the provider
// as "fake" with one model "m", and makes fake/m the default model.
func (p *Provider) Config() string {
	cfg := map[string]any{
		"$schema": "https://opencode.ai/config.json",
		"provider": map[string]any{ProviderID: map[string]any{
			"npm":     "@ai-sdk/openai-compatible",
			"name":    "Fake",
			"options": map[string]any{"baseURL": p.URL()},
			"models":  map[string]any{ModelID: map[string]any{"name": ModelID}},
		}},
		"model": ProviderID + "/" + ModelID,
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return string(b) + "\n"
}

// WriteConfig writes Config to home/.config/opencode/opencode.json.
func (p *Provider) WriteConfig(t testing.TB, home string) {
	t.Helper()
	writeFile(t, filepath.Join(home, ".config", "opencode", "opencode.json"), p.Config(), 0o644)
}

// WriteAuth writes dataHome/opencode/auth.json giving the fake provider
// key, the way OpenCode stores an API key.
func WriteAuth(t testing.TB, dataHome, key string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{ProviderID: map[string]string{"type": "api", "key": key}})
	writeFile(t, filepath.Join(dataHome, "opencode", "auth.json"), string(b), 0o600)
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatalf("fakeprovider: %v", err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatalf("fakeprovider: %v", err)
	}
}

// Requests is a copy of every request received so far, oldest first.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, len(p.reqs))
	for i, r := range p.reqs {
		out[i] = *r
	}
	return out
}

// Chats is the chat completion requests among Requests.
func (p *Provider) Chats() []Request {
	var out []Request
	for _, r := range p.Requests() {
		if r.Path == "/v1/chat/completions" {
			out = append(out, r)
		}
	}
	return out
}

// Wait polls the requests until ok holds for them, and fails the test after
// within, naming what it waited for and listing the requests.
func (p *Provider) Wait(t testing.TB, within time.Duration, what string, ok func([]Request) bool) []Request {
	t.Helper()
	within = testsys.BeforeDeadline(t, within)
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		seen := p.seen
		p.mu.Unlock()
		reqs := p.Requests()
		if ok(reqs) {
			return reqs
		}
		select {
		case <-seen:
		case <-deadline.C:
			t.Fatalf("fakeprovider: not within %s: %s; the fake provider saw:\n%s", within, what, Describe(reqs))
			return nil
		}
	}
}

// Describe lists requests one a line, for failure messages.
func Describe(reqs []Request) string {
	if len(reqs) == 0 {
		return "  (no request)\n"
	}
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "  %s %s key=%q prompt=%q pids=%v", r.Method, r.Path, r.Key(), r.Prompt, r.Peer.Pids)
		for _, c := range r.Peer.Cmdlines {
			fmt.Fprintf(&b, " %q", strings.Join(c, " "))
		}
		if r.Peer.Err != "" {
			fmt.Fprintf(&b, " (%s)", r.Peer.Err)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (p *Provider) changed() {
	close(p.seen)
	p.seen = make(chan struct{})
}

// record adds r to the list, its client looked up while its connection is
// open.
func (p *Provider) record(r *http.Request, body []byte) *Request {
	req := &Request{
		Method:        r.Method,
		Path:          r.URL.Path,
		Authorization: r.Header.Get("Authorization"),
		Body:          body,
		Start:         time.Now(),
	}
	if cp, ok := r.Context().Value(connKey{}).(*connPeer); ok {
		req.Peer = cp.lookup()
	}
	if len(body) > 0 {
		var chat struct {
			Model    string `json:"model"`
			Stream   bool   `json:"stream"`
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if json.Unmarshal(body, &chat) == nil {
			req.Model, req.Stream = chat.Model, chat.Stream
			for _, m := range chat.Messages {
				if m.Role == "user" {
					req.Prompt = text(m.Content)
				}
			}
		}
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.changed()
	p.mu.Unlock()
	return req
}

// text is a message content's text: a string, or the text parts of an
// array of parts.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b []string
	for _, pt := range parts {
		if pt.Type == "text" {
			b = append(b, pt.Text)
		}
	}
	return strings.Join(b, "\n")
}

func (p *Provider) finish(req *Request, canceled bool) {
	p.mu.Lock()
	req.End, req.Canceled = time.Now(), canceled
	p.changed()
	p.mu.Unlock()
}

func (p *Provider) models(w http.ResponseWriter, r *http.Request) {
	req := p.record(r, nil)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","created":%d,"owned_by":"fakeprovider"}]}`, ModelID, req.Start.Unix())
	p.finish(req, false)
}

func (p *Provider) chat(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req := p.record(r, body)
	if err != nil {
		p.finish(req, true)
		return
	}
	opt := p.options()
	id := "chatcmpl-fake-" + strconv.FormatInt(req.Start.UnixNano(), 36)
	created := req.Start.Unix()
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": ModelID,
			"choices": []any{map[string]any{
				"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": opt.Reply},
			}},
			"usage": usage(opt.Reply),
		})
		p.finish(req, false)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	bw := bufio.NewWriter(w)
	fl, _ := w.(http.Flusher)
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		fmt.Fprintf(bw, "data: %s\n\n", b)
		if bw.Flush() != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return r.Context().Err() == nil
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": ModelID,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
	}
	pieces := split(opt.Reply, opt.Chunks)
	var gap time.Duration
	if len(pieces) > 1 {
		gap = opt.Over / time.Duration(len(pieces)-1)
	}
	if !send(chunk(map[string]any{"role": "assistant", "content": ""}, nil)) {
		p.finish(req, true)
		return
	}
	for i, piece := range pieces {
		if i > 0 && gap > 0 {
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				p.finish(req, true)
				return
			}
		}
		if !send(chunk(map[string]any{"content": piece}, nil)) {
			p.finish(req, true)
			return
		}
	}
	end := chunk(map[string]any{}, "stop")
	end["usage"] = usage(opt.Reply)
	if !send(end) {
		p.finish(req, true)
		return
	}
	fmt.Fprint(bw, "data: [DONE]\n\n")
	bw.Flush()
	if fl != nil {
		fl.Flush()
	}
	p.finish(req, r.Context().Err() != nil)
}

func usage(reply string) map[string]int {
	n := len(strings.Fields(reply))
	return map[string]int{"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}
}

// split cuts s into n pieces of about equal length, on rune boundaries
// (fewer when s has fewer runes).
func split(s string, n int) []string {
	rs := []rune(s)
	if n > len(rs) {
		n = len(rs)
	}
	if n <= 1 {
		return []string{s}
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, string(rs[i*len(rs)/n:(i+1)*len(rs)/n]))
	}
	return out
}

// connPeer finds, once per connection, the process that opened it.
type connPeer struct {
	conn net.Conn
	once sync.Once
	peer Peer
}

func (c *connPeer) lookup() Peer {
	c.once.Do(func() {
		local, ok1 := c.conn.LocalAddr().(*net.TCPAddr)
		remote, ok2 := c.conn.RemoteAddr().(*net.TCPAddr)
		if !ok1 || !ok2 {
			c.peer.Err = "not a TCP connection"
			return
		}
		c.peer = Lookup(local.AddrPort(), remote.AddrPort())
	})
	return c.peer
}

// Lookup finds the local processes that hold the client's side of a TCP
// connection on this machine, from client to server (internal/procfs: the
// socket's inode from nettcp.Peer, then the processes holding it). The
// connection must still be open.
func Lookup(server, client netip.AddrPort) Peer {
	peer := Peer{Port: int(client.Port())}
	sock, found, err := nettcp.Peer(server, client)
	if err != nil || !found || sock.Inode == "0" {
		peer.Err = fmt.Sprintf("no socket from %s to %s (%v)", client, server, err)
		return peer
	}
	inode := sock.Inode
	for _, pid := range procfs.Holders(inode)[inode] {
		peer.Pids = append(peer.Pids, pid)
		peer.Cmdlines = append(peer.Cmdlines, procfs.Cmdline(pid))
	}
	if len(peer.Pids) == 0 {
		peer.Err = "no process holds socket " + inode + " (the client is not a process this user may see)"
	}
	return peer
}
