package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeProvider is a local OpenAI-compatible provider on a loopback port:
// GET /v1/models, and POST /v1/chat/completions answered with a streamed
// reply of Words words, one every Delay. It records, for each request, the
// key it was sent and whether its stream ran to the end.
type fakeProvider struct {
	URL   string // http://127.0.0.1:PORT/v1
	Words int
	Delay time.Duration

	mu   sync.Mutex
	reqs []providerRequest
}

type providerRequest struct {
	Key      string // the bearer token
	Model    string
	Text     string // the last user message
	Finished bool   // the whole reply was written
	Cut      bool   // the client went away mid-stream
}

func newFakeProvider(t testing.TB, words int, delay time.Duration) *fakeProvider {
	t.Helper()
	p := &fakeProvider{Words: words, Delay: delay}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.URL = "http://" + ln.Addr().String() + "/v1"
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// setWords changes the length of the replies to come.
func (p *fakeProvider) setWords(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Words = n
}

// reply is the text the provider streams for one request.
func (p *fakeProvider) reply() string {
	p.mu.Lock()
	words := p.Words
	p.mu.Unlock()
	var b strings.Builder
	for i := range words {
		fmt.Fprintf(&b, "w%02d ", i)
	}
	b.WriteString("END")
	return b.String()
}

func (p *fakeProvider) requests() []providerRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]providerRequest(nil), p.reqs...)
}

func (p *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"m","object":"model","owned_by":"fake"}]}`)
		return
	case r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions"):
		http.NotFound(w, r)
		return
	}
	var body struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&body)
	req := providerRequest{Key: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), Model: body.Model}
	for _, m := range body.Messages {
		if m.Role == "user" {
			req.Text = string(m.Content)
		}
	}
	p.mu.Lock()
	i := len(p.reqs)
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	done := func(finished, cut bool) {
		p.mu.Lock()
		p.reqs[i].Finished, p.reqs[i].Cut = finished, cut
		p.mu.Unlock()
	}
	chunk := func(delta map[string]any, finish any) string {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		return "data: " + string(b) + "\n\n"
	}
	if !body.Stream {
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": time.Now().Unix(), "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "title"}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
		})
		w.Write(b)
		done(true, false)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	write := func(s string) bool {
		if _, err := io.WriteString(w, s); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	words := strings.SplitAfter(p.reply(), " ")
	if !write(chunk(map[string]any{"role": "assistant", "content": ""}, nil)) {
		done(false, true)
		return
	}
	for _, word := range words {
		select {
		case <-r.Context().Done():
			done(false, true)
			return
		case <-time.After(p.Delay):
		}
		if !write(chunk(map[string]any{"content": word}, nil)) {
			done(false, true)
			return
		}
	}
	usage, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": body.Model,
		"choices": []any{}, "usage": map[string]any{"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)}})
	write(chunk(map[string]any{}, "stop"))
	write("data: " + string(usage) + "\n\n")
	write("data: [DONE]\n\n")
	done(true, false)
}
