// Package proxy is the local proxy every OpenCode client of oca's talks to
// in place of the account's server: the TUI (`opencode attach URL`), `opencode
// run --attach URL`, and any client that takes a server's URL (OpenCode 2's
// `--server URL`). oca runs it in its own process, for as long as the
// client lives (cmd/oca).
//
// An attached OpenCode lives for hours, and when its server goes away it
// reconnects, with the password, to whatever listens on the port then
// (after 1, 2, 4, 8, 16 s, then every 30 s). Through the proxy, each of its
// connections is dialled by hook/opencode's guarded dialer (opencode.Dial): the server's side
// of that very connection must be the user's socket, or nothing is sent. So the
// owner check holds for the client's whole life, not only at its start.
//
// What else the proxy does:
//   - It takes connections only from sockets of the user running it (the
//     owner of the client's side, as the kernel lists it): another local user
//     cannot use it.
//   - The client is given a password of the proxy's own (Token), which the
//     proxy swaps for the account's on the way: the client never holds the
//     account's password, and a client that outlived its proxy would send
//     nothing of worth.
//   - It holds each connection until the server is ready (Options.Ready):
//     a client can start while the server starts, and after the server went
//     away (a crash, a restart) the client's reconnection waits for the new
//     one instead of failing and backing off. OpenCode 1.18.33's attach,
//     measured: requests held 5, 40 and 100 s are answered and the TUI
//     goes on; a connection refused or closed before the TUI is up makes it
//     exit 1 ("Unable to connect"), and once up it retries its event stream.
//   - With Options.Run, the order `opencode run --attach` needs (run.go).
package proxy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
)

// Options say what a Proxy stands in front of.
type Options struct {
	// Port is the account's server: 127.0.0.1:Port.
	Port int
	// Password is the account's server password: the proxy sends it on in
	// place of Token. "" sends on what the client sent.
	Password string
	// Ready waits until the server is ready for clients, or returns why it
	// will not be. The proxy calls it at Start (unless Warm), and again
	// whenever the server went away (a connection refused, a reply cut),
	// one call at a time, with a context that ends at Close; connections
	// wait for it. An error ends the proxy: Done is closed, Err says why,
	// and every connection held or to come is closed unanswered. Nil:
	// connections are dialled at once.
	Ready func(ctx context.Context) error
	// Warm says the server was just found ready: no wait before the first
	// connection.
	Warm bool
	// Run holds prompts and their answers in the order `opencode run
	// --attach` needs to print the reply (see run.go).
	Run bool
}

// Proxy is a running proxy on 127.0.0.1, on a port of the kernel's choosing.
type Proxy struct {
	opt   Options
	ln    net.Listener
	srv   *http.Server
	token string
	run   *runOrder // nil without Options.Run

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu      sync.Mutex
	ready   bool          // the server is known to be ready
	waiting bool          // a call of Options.Ready runs
	changed chan struct{} // closed and replaced when ready or err change
	err     error         // why the proxy failed for good
	done    chan struct{} // closed when err is set
}

// Start listens on 127.0.0.1 (a port of the kernel's choosing) and serves
// until Close.
func Start(opt Options) (*Proxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy for port %d: %w", opt.Port, err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, fmt.Errorf("proxy for port %d: %w", opt.Port, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		opt:     opt,
		ln:      ln,
		token:   base64.RawURLEncoding.EncodeToString(tok),
		ctx:     ctx,
		cancel:  cancel,
		ready:   opt.Ready == nil || opt.Warm,
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if opt.Run {
		p.run = newRunOrder()
	}
	target := &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(opt.Port)}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
			p.swapCredentials(r)
			if p.run != nil {
				// The hold for run's stream runs from the server's
				// readiness, not from the prompt: a prompt sent while
				// the server (re)starts waits for it with the stream.
				_ = p.awaitReady(r.In.Context())
				p.run.rewrite(r)
			}
		},
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return p.dial(ctx) },
			MaxIdleConnsPerHost: 64, // a TUI opens about 20 at once
			IdleConnTimeout:     5 * time.Minute,
		},
		FlushInterval:  -1, // event streams at once
		ModifyResponse: p.modify,
		ErrorHandler:   p.failed,
	}
	p.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ownersOnly{ln}) }()
	if !p.ready {
		p.mu.Lock()
		p.startWait()
		p.mu.Unlock()
	}
	return p, nil
}

// Unanswered says why `opencode run` (Options.Run) printed no reply, when
// a prompt's answer had to be let go before the event stream carried its
// reply; nil otherwise.
func (p *Proxy) Unanswered() error {
	if p.run == nil {
		return nil
	}
	return p.run.errUnanswered()
}

// URL is the proxy's base URL, for the client in place of the server's.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Token is the password the client gives the proxy: a random one of this
// proxy's, which it swaps for Options.Password on the way (the client may
// give the account's password too).
func (p *Proxy) Token() string {
	if p.opt.Password == "" {
		return ""
	}
	return p.token
}

// Done is closed when the proxy has failed for good (Options.Ready said
// the server will not be ready, or the port is another user's): Err says
// why.
func (p *Proxy) Done() <-chan struct{} { return p.done }

// Err is why the proxy failed, once Done is closed.
func (p *Proxy) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() error {
	p.cancel()
	return p.srv.Close()
}

// dial connects to the server for a client's request, once the server is
// ready, over a connection that passed the owner check.
func (p *Proxy) dial(ctx context.Context) (net.Conn, error) {
	for try := 0; ; try++ {
		if err := p.awaitReady(ctx); err != nil {
			return nil, err
		}
		conn, err := opencode.Dial(ctx, p.opt.Port, opencode.OwnUser)
		if err == nil {
			return conn, nil
		}
		if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
			p.fail(err)
			return nil, err
		}
		if p.opt.Ready == nil || ctx.Err() != nil {
			return nil, err
		}
		// Refused: the server went away since it was ready.
		p.lost()
		if try > 0 {
			select {
			case <-time.After(min(time.Duration(try)*50*time.Millisecond, time.Second)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
}

// awaitReady returns once the server is known to be ready, or why the
// proxy failed, or ctx's error.
func (p *Proxy) awaitReady(ctx context.Context) error {
	for {
		p.mu.Lock()
		ready, err, changed := p.ready, p.err, p.changed
		if !ready && err == nil {
			p.startWait()
		}
		p.mu.Unlock()
		switch {
		case err != nil:
			return err
		case ready:
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// startWait calls Options.Ready in a goroutine of its own unless one runs;
// p.mu is held.
func (p *Proxy) startWait() {
	if p.waiting || p.err != nil {
		return
	}
	p.waiting = true
	go func() {
		err := p.opt.Ready(p.ctx)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.waiting = false
		switch {
		case p.ctx.Err() != nil:
			p.setErr(net.ErrClosed)
		case err != nil:
			p.setErr(err)
		default:
			p.ready = true
			p.wake()
		}
	}()
}

// lost records that the server went away: connections wait for it again,
// and Options.Ready is asked at once (so that a server that fails is seen
// even while no client connects).
func (p *Proxy) lost() {
	if p.opt.Ready == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready {
		p.ready = false
		p.wake()
	}
	p.startWait()
}

// fail ends the proxy with err.
func (p *Proxy) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setErr(err)
}

// setErr records err as why the proxy failed, the first time; p.mu is held.
func (p *Proxy) setErr(err error) {
	if p.err != nil {
		return
	}
	p.err = err
	close(p.done)
	p.wake()
}

// wake wakes the connections waiting on p.changed; p.mu is held.
func (p *Proxy) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// failed is the reverse proxy's ErrorHandler: the request could not be sent
// or its answer not read. The client's connection is closed unanswered,
// as a server that went away would leave it.
func (p *Proxy) failed(_ http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() == nil && !errors.Is(err, net.ErrClosed) && p.Err() == nil {
		p.lost()
	}
	panic(http.ErrAbortHandler)
}

// modify watches the server's answer: a body cut short (the server went
// away in the middle of an event stream) is a lost server.
func (p *Proxy) modify(resp *http.Response) error {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return nil // a WebSocket: its body is the connection itself
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, p: p, ctx: resp.Request.Context()}
	if p.run != nil {
		p.run.modify(resp)
	}
	return nil
}

// watchedBody is an answer's body that tells the proxy when it breaks.
type watchedBody struct {
	io.ReadCloser
	p   *Proxy
	ctx context.Context
}

func (b *watchedBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if err != nil && err != io.EOF && b.ctx.Err() == nil && b.p.ctx.Err() == nil {
		b.p.lost()
	}
	return n, err
}

// authTokenParam is the query parameter OpenCode's server takes in place of
// an Authorization header (browsers' WebSockets cannot set one): base64 of
// USER:PASSWORD, as in basic auth.
const authTokenParam = "auth_token"

// swapCredentials puts the account's password in place of the proxy's
// token, in the Authorization header and the auth_token parameter. Other
// credentials go on as they came (the server judges them).
func (p *Proxy) swapCredentials(r *httputil.ProxyRequest) {
	if p.opt.Password == "" {
		return
	}
	if user, pw, ok := r.In.BasicAuth(); ok && p.isToken(pw) {
		r.Out.SetBasicAuth(user, p.opt.Password)
	}
	if !strings.Contains(r.Out.URL.RawQuery, authTokenParam) {
		return
	}
	q := r.Out.URL.Query()
	raw, err := base64.StdEncoding.DecodeString(q.Get(authTokenParam))
	if user, pw, ok := strings.Cut(string(raw), ":"); err == nil && ok && p.isToken(pw) {
		q.Set(authTokenParam, base64.StdEncoding.EncodeToString([]byte(user+":"+p.opt.Password)))
		r.Out.URL.RawQuery = q.Encode()
	}
}

func (p *Proxy) isToken(pw string) bool {
	return subtle.ConstantTimeCompare([]byte(pw), []byte(p.token)) == 1
}

// ownersOnly is a listener whose connections serve only clients of the
// user running oca: the first read of each checks the owner of the
// client's socket, and closes the connection when it is another user's.
type ownersOnly struct{ net.Listener }

func (l ownersOnly) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &clientConn{Conn: c}, nil
}

// clientConn is a client's connection, checked before its first byte is
// read (in the connection's own goroutine, not in Accept).
type clientConn struct {
	net.Conn
	once sync.Once
	err  error
}

// ErrForeignClient says that a connection to the proxy came from another
// user's socket.
var ErrForeignClient = errors.New("a connection from another user's socket")

func (c *clientConn) Read(b []byte) (int, error) {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		uid, known, err := opencode.PeerUID(ctx, c.Conn)
		switch {
		case err != nil:
			c.err = err
		case known && uid != os.Getuid():
			c.err = fmt.Errorf("%w (uid %d)", ErrForeignClient, uid)
		}
		if c.err != nil {
			c.Conn.Close()
		}
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(b)
}
