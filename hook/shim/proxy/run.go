package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"regexp"
	"sync"
	"time"
)

// With Options.Run the proxy stands between `opencode run --attach` and the
// account's server. OpenCode 1.18's run, attached, exits as soon as the
// server answers its prompt, and the reply's text, which comes a moment
// later on the event stream, is never printed (upstream:
// anomalyco/opencode#27703, #38661). The proxy sends a prompt on only once
// run's event stream flows (so that no event of the reply comes before run
// listens), and holds the prompt's answer until that stream has said the
// session was busy with it and then went idle, and a second more: by then
// run has printed the reply. A prompt is held for the stream only once the
// server is ready (right after a restart, run's stream and prompt both
// wait for it, and the hold must not run out meanwhile). When run's prompt
// was answered but the stream never carried its reply, Unanswered says
// so: run then exits 0 having printed nothing, which oca does not pass on
// as a success.

// runOrder is what the proxy knows of run's sessions and stream.
type runOrder struct {
	mu         sync.Mutex
	status     map[string]sessionTimes // by session ID
	stream     bool                    // an event stream has begun to flow
	seen       chan struct{}           // closed and replaced at each of those
	hold       time.Duration           // promptHold (tests shorten it)
	unanswered error                   // a prompt's answer let go before its reply was seen on the stream
}

func newRunOrder() *runOrder {
	return &runOrder{status: map[string]sessionTimes{}, seen: make(chan struct{}), hold: promptHold}
}

// errUnanswered is why run printed no reply, if it did not: see Unanswered.
func (o *runOrder) errUnanswered() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unanswered
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

// promptPath is the route of a prompt: POST /session/ID/message (compiled
// when first used, not at every start of oca).
var promptPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/session/([^/]+)/message$`) })

// rewrite holds a prompt until run's event stream flows.
func (o *runOrder) rewrite(r *httputil.ProxyRequest) {
	if m := promptPath().FindStringSubmatch(r.In.URL.Path); m != nil && r.In.Method == http.MethodPost {
		o.waitStream(r.In.Context())
		o.sawStatus(m[1], "prompt")
	}
}

// modify reads event streams through, and holds a prompt's answer until it
// is answered on the stream.
func (o *runOrder) modify(resp *http.Response) {
	if bytes.HasPrefix([]byte(resp.Header.Get("Content-Type")), []byte("text/event-stream")) {
		resp.Body = &eventTee{ReadCloser: resp.Body, onStatus: o.sawStatus, onData: o.sawStream}
		return
	}
	req := resp.Request
	if req.Method != http.MethodPost {
		return
	}
	if m := promptPath().FindStringSubmatch(req.URL.Path); m != nil {
		o.waitAnswered(req.Context(), m[1])
	}
}

// sawStatus records what session id is now: "prompt" (sent on), or the
// status the stream said ("busy", "retry", "idle"), and wakes the waiters.
func (o *runOrder) sawStatus(id, status string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, now := o.status[id], time.Now()
	switch status {
	case "prompt":
		t.prompt = now
	case "idle":
		t.idle = now
	default:
		t.busy = now
	}
	o.status[id] = t
	o.wake()
}

// sawStream records that an event stream has begun to flow.
func (o *runOrder) sawStream() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.stream {
		o.stream = true
		o.wake()
	}
}

// wake wakes the waiters; o.mu is held.
func (o *runOrder) wake() {
	close(o.seen)
	o.seen = make(chan struct{})
}

// waitStream returns once an event stream flows, or after o.hold, or
// when ctx is done.
func (o *runOrder) waitStream(ctx context.Context) {
	o.waitFor(ctx, func() bool { return o.stream })
}

// waitAnswered returns once the event stream has said session id was busy
// with its prompt and then went idle, or after promptHold, or when ctx is
// done.
func (o *runOrder) waitAnswered(ctx context.Context, id string) {
	if !o.waitFor(ctx, func() bool { return o.status[id].answered() }) && ctx.Err() == nil {
		// run will print nothing of the reply (it came before run
		// listened, or the stream broke): run must not end as if it had.
		o.mu.Lock()
		if o.unanswered == nil {
			o.unanswered = fmt.Errorf("the server answered the prompt of session %s, but its event stream did not carry the reply to run within %s", id, o.hold)
		}
		o.mu.Unlock()
		return
	}
	// run prints the reply when it reads the events before the idle, in
	// its own time: nothing of that can be seen from here (it keeps the
	// stream open until it exits), so it gets a moment.
	select {
	case <-time.After(printGrace):
	case <-ctx.Done():
	}
}

// waitFor returns true once done (called with o.mu held) is true, or
// false after o.hold or when ctx is done.
func (o *runOrder) waitFor(ctx context.Context, done func() bool) bool {
	limit := time.NewTimer(o.hold)
	defer limit.Stop()
	for {
		o.mu.Lock()
		ok := done()
		seen := o.seen
		o.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-seen:
		case <-limit.C:
			return false
		case <-ctx.Done():
			return false
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
