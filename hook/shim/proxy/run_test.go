package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRunProxyOrdersPromptAndReply: a server that answers a prompt at once
// and says on its event stream, later, that the session went idle. Through
// the proxy, the prompt reaches the server only once the client's event
// stream flows, and its answer reaches the client only after the stream
// said the session was busy and then idle (an idle before busy does not
// count): the order `opencode run --attach` needs to print the
// reply before it exits.
func TestRunProxyOrdersPromptAndReply(t *testing.T) {
	var mu sync.Mutex
	var log []string
	note := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	idle := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /event", func(w http.ResponseWriter, r *http.Request) {
		// Noted before the first event leaves: once it has, the proxy may
		// let the prompt through, and its handler may note first.
		note("stream")
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"type\":\"server.connected\",\"properties\":{}}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-idle:
		case <-r.Context().Done():
			return
		}
		status := func(st string) {
			fmt.Fprintf(w, "data: {\"type\":\"session.status\",\"properties\":{\"sessionID\":\"ses_1\",\"status\":{\"type\":%q}}}\n\n", st)
			w.(http.Flusher).Flush()
		}
		// An idle before the work began says nothing of the answer.
		status("idle")
		status("busy")
		time.Sleep(300 * time.Millisecond) // the server says idle after it answered
		note("idle sent")
		status("idle")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /session/ses_1/message", func(w http.ResponseWriter, r *http.Request) {
		note("prompt")
		close(idle)
		fmt.Fprint(w, `{"info":{}}`)
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	p, err := Start(Options{Port: ln.Addr().(*net.TCPAddr).Port, Run: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// The prompt first, the stream a moment later, as a racing client.
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Post(p.URL()+"/session/ses_1/message", "application/json", strings.NewReader(`{}`))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		note("answered")
		answered <- err
	}()
	time.Sleep(200 * time.Millisecond)
	resp, err := http.Get(p.URL() + "/event")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go io.Copy(io.Discard, resp.Body)
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(promptHold + 5*time.Second):
		t.Fatal("the prompt was never answered")
	}
	mu.Lock()
	got := strings.Join(log, ", ")
	mu.Unlock()
	if got != "stream, prompt, idle sent, answered" {
		t.Errorf("order through the proxy: %s; want stream, prompt, idle sent, answered", got)
	}
}

// TestRunProxyHoldsThePromptUntilTheServerIsReady is issue 18's `opencode
// run` that printed no reply and exited 0 right after a restart: the
// prompt's hold for run's event stream ran out while the server was still
// starting, and once it was ready the prompt could reach it before the
// stream flowed, so that run missed its reply. The hold now runs from
// readiness; and a prompt answered without its reply on the stream is
// said (Unanswered), so that oca does not end run as a success.
func TestRunProxyHoldsThePromptUntilTheServerIsReady(t *testing.T) {
	var mu sync.Mutex
	var log []string
	note := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /event", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond) // a fresh server's first event comes a moment after
		note("stream")
		fmt.Fprint(w, "data: {\"type\":\"server.connected\",\"properties\":{}}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /session/ses_1/message", func(w http.ResponseWriter, r *http.Request) {
		note("prompt")
		fmt.Fprint(w, `{"info":{}}`)
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	ready := make(chan struct{})
	p, err := Start(Options{Port: ln.Addr().(*net.TCPAddr).Port, Run: true, Ready: func(ctx context.Context) error {
		select {
		case <-ready: // the server (re)starting
		case <-ctx.Done():
		}
		return ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.run.hold = 300 * time.Millisecond

	go func() {
		if resp, err := http.Get(p.URL() + "/event"); err == nil {
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
		}
	}()
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Post(p.URL()+"/session/ses_1/message", "application/json", strings.NewReader(`{}`))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		answered <- err
	}()
	// Longer than the hold, as a server's start is.
	<-time.After(3 * p.run.hold)
	close(ready)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(log, ", ")
	mu.Unlock()
	if !strings.HasPrefix(got, "stream, prompt") {
		t.Errorf("order through the proxy: %s; want the stream flowing before the prompt", got)
	}
	// The stream never said the session was busy, then idle: run printed
	// nothing, and the proxy says so.
	if err := p.Unanswered(); err == nil || !strings.Contains(err.Error(), "ses_1") {
		t.Errorf("Unanswered = %v", err)
	}
}
