package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
)

// RunProxy stands between `opencode run --attach` and the account's
// server. OpenCode 1.18's run, attached, exits as soon as the server
// answers its prompt, and the reply's text, which comes a moment later on
// the event stream, is never printed (upstream: anomalyco/opencode#27703,
// #38661). The proxy sends a prompt on only once run's event stream flows
// (so that no event of the reply comes before run listens), and holds the
// prompt's answer until that stream has said the session was busy with it
// and then went idle: by then run has printed the reply. It also puts every connection to the server
// through the same check as oca's own requests (the user's socket only).
type RunProxy struct {
	ln  net.Listener
	srv *http.Server

	mu     sync.Mutex
	status map[string]sessionTimes // by session ID
	stream bool                    // an event stream has begun to flow
	seen   chan struct{}           // closed and replaced at each of those
}

// sessionTimes are when the proxy sent a session's prompt on, and when the
// stream last said it was busy, and idle.
type sessionTimes struct{ prompt, busy, idle time.Time }

// answered tells whether the stream has said the session was busy with the
// prompt and then went idle: a session says idle before it starts too.
func (s sessionTimes) answered() bool {
	return !s.prompt.IsZero() && s.busy.After(s.prompt) && s.idle.After(s.busy)
}

// promptHold bounds how long the proxy holds a prompt's answer for its
// session's idle event.
const promptHold = 10 * time.Second

// printGrace is how long run gets, after its stream carried the idle, to
// print what the stream brought it before it sees the prompt answered.
const printGrace = time.Second

// promptPath is the route of a prompt: POST /session/ID/message.
var promptPath = regexp.MustCompile(`^/session/([^/]+)/message$`)

// StartRunProxy listens on 127.0.0.1 (a port of the kernel's choosing) and
// forwards to the server on port.
func StartRunProxy(port int) (*RunProxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &RunProxy{ln: ln, status: map[string]sessionTimes{}, seen: make(chan struct{})}
	target := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
			if m := promptPath.FindStringSubmatch(r.In.URL.Path); m != nil && r.In.Method == http.MethodPost {
				p.waitStream(r.In.Context())
				p.sawStatus(m[1], "prompt")
			}
		},
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return opencode.Dial(ctx, port, opencode.OwnUser)
			},
		},
		FlushInterval:  -1,
		ModifyResponse: p.modify,
	}
	p.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's base URL, for `opencode run --attach`.
func (p *RunProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops the proxy and every connection through it.
func (p *RunProxy) Close() error { return p.srv.Close() }

func (p *RunProxy) modify(resp *http.Response) error {
	if bytes.HasPrefix([]byte(resp.Header.Get("Content-Type")), []byte("text/event-stream")) {
		resp.Body = &eventTee{ReadCloser: resp.Body, onStatus: p.sawStatus, onData: p.sawStream}
		return nil
	}
	req := resp.Request
	if req.Method != http.MethodPost {
		return nil
	}
	m := promptPath.FindStringSubmatch(req.URL.Path)
	if m == nil {
		return nil
	}
	p.waitAnswered(req.Context(), m[1])
	return nil
}

// sawStatus records what session id is now: "prompt" (sent on), or the
// status the stream said ("busy", "retry", "idle"), and wakes the waiters.
func (p *RunProxy) sawStatus(id, status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, now := p.status[id], time.Now()
	switch status {
	case "prompt":
		t.prompt = now
	case "idle":
		t.idle = now
	default:
		t.busy = now
	}
	p.status[id] = t
	p.wake()
}

// sawStream records that an event stream has begun to flow.
func (p *RunProxy) sawStream() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stream {
		p.stream = true
		p.wake()
	}
}

// wake wakes the waiters; p.mu is held.
func (p *RunProxy) wake() {
	close(p.seen)
	p.seen = make(chan struct{})
}

// waitStream returns once an event stream flows, or after promptHold, or
// when ctx is done.
func (p *RunProxy) waitStream(ctx context.Context) {
	p.waitFor(ctx, func() bool { return p.stream })
}

// waitAnswered returns once the event stream has said session id was busy
// with its prompt and then went idle, or after promptHold, or when ctx is
// done.
func (p *RunProxy) waitAnswered(ctx context.Context, id string) {
	p.waitFor(ctx, func() bool { return p.status[id].answered() })
	// run prints the reply when it reads the events before the idle, in
	// its own time: nothing of that can be seen from here (it keeps the
	// stream open until it exits), so it gets a moment.
	select {
	case <-time.After(printGrace):
	case <-ctx.Done():
	}
}

// waitFor returns once done (called with p.mu held) is true, or after
// promptHold, or when ctx is done.
func (p *RunProxy) waitFor(ctx context.Context, done func() bool) {
	limit := time.NewTimer(promptHold)
	defer limit.Stop()
	for {
		p.mu.Lock()
		ok := done()
		seen := p.seen
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-seen:
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// eventTee reads an event stream through, and calls onStatus with the
// session and status of each "session.status" event.
type eventTee struct {
	io.ReadCloser
	onStatus func(id, status string)
	onData   func() // the stream's first bytes
	line     []byte
}

func (t *eventTee) Read(b []byte) (int, error) {
	n, err := t.ReadCloser.Read(b)
	if n > 0 && t.onData != nil {
		t.onData()
		t.onData = nil
	}
	for _, c := range b[:n] {
		if c != '\n' {
			if len(t.line) < 1<<20 {
				t.line = append(t.line, c)
			}
			continue
		}
		t.event(t.line)
		t.line = t.line[:0]
	}
	return n, err
}

// event looks at one line of the stream.
func (t *eventTee) event(line []byte) {
	data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r"), []byte("data:"))
	if !ok || !bytes.Contains(data, []byte(`"session.status"`)) {
		return
	}
	var ev struct {
		statusEvent
		Payload *statusEvent `json:"payload"` // the global stream wraps each event
	}
	if json.Unmarshal(bytes.TrimSpace(data), &ev) != nil {
		return
	}
	e := ev.statusEvent
	if ev.Payload != nil {
		e = *ev.Payload
	}
	typ, id, status := e.Type, e.Properties.SessionID, e.Properties.Status.Type
	if typ == "session.status" && status != "" && id != "" {
		t.onStatus(id, status)
	}
}

// statusEvent is the part of an OpenCode event that says a session's status.
type statusEvent struct {
	Type       string `json:"type"`
	Properties struct {
		SessionID string `json:"sessionID"`
		Status    struct {
			Type string `json:"type"`
		} `json:"status"`
	} `json:"properties"`
}
