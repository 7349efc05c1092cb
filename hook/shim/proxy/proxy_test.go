package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/squatter"
)

// upstream is a server standing for the account's OpenCode: it records the
// credentials of each request (the basic auth password, and the auth_token
// parameter decoded) and answers "ok PATH".
type upstream struct {
	ln  net.Listener
	srv *http.Server

	mu    sync.Mutex
	seen  []string // "PATH PASSWORD", one per request
	calls chan string
}

func startUpstream(t *testing.T, port int) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{ln: ln, calls: make(chan string, 100)}
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, _ := r.BasicAuth()
		if tok := r.URL.Query().Get(authTokenParam); tok != "" {
			raw, _ := base64.StdEncoding.DecodeString(tok)
			_, pw, _ = strings.Cut(string(raw), ":")
		}
		u.mu.Lock()
		u.seen = append(u.seen, r.URL.Path+" "+pw)
		u.mu.Unlock()
		u.calls <- r.URL.Path
		fmt.Fprint(w, "ok "+r.URL.Path)
	})}
	go u.srv.Serve(ln)
	t.Cleanup(u.close)
	return u
}

func (u *upstream) port() int { return u.ln.Addr().(*net.TCPAddr).Port }

func (u *upstream) close() { u.srv.Close() }

func (u *upstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// get sends GET path to the proxy with basic auth opencode:password.
func get(p *Proxy, path, password string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, p.URL()+path, nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth("opencode", password)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func startProxy(t *testing.T, opt Options) *Proxy {
	t.Helper()
	p, err := Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestProxySwapsCredentials: a client gives the proxy its token; the
// server is sent the account's password in its place, in the Authorization
// header and in the auth_token parameter alike. The account's password
// goes through too; any other password goes on unchanged (the server
// refuses it), never swapped.
func TestProxySwapsCredentials(t *testing.T) {
	t.Parallel()
	up := startUpstream(t, 0)
	p := startProxy(t, Options{Port: up.port(), Password: "account-pw"})
	if p.Token() == "" || p.Token() == "account-pw" {
		t.Fatalf("token %q", p.Token())
	}
	for _, c := range []struct{ path, pw string }{{"/a", p.Token()}, {"/b", "account-pw"}, {"/c", "guess"}} {
		if got, err := get(p, c.path, c.pw); err != nil || got != "ok "+c.path {
			t.Fatalf("GET %s: %q, %v", c.path, got, err)
		}
	}
	q := base64.StdEncoding.EncodeToString([]byte("opencode:" + p.Token()))
	if got, err := get(p, "/d?x=1&auth_token="+q, ""); err != nil || got != "ok /d" {
		t.Fatalf("GET /d: %q, %v", got, err)
	}
	want := []string{"/a account-pw", "/b account-pw", "/c guess", "/d account-pw"}
	if got := up.requests(); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("the server saw %q, want %q", got, want)
	}
}

// TestProxyRefusesOtherUsersClients: a client whose socket is another
// user's is closed unanswered, and nothing of its request reaches the
// server; the user's own client, at the same time, is answered.
func TestProxyRefusesOtherUsersClients(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	bin := squatter.Build(t)
	up := startUpstream(t, 0)
	p := startProxy(t, Options{Port: up.port(), Password: "account-pw"})
	for _, path := range []string{"/config/providers", "/global/health"} {
		if got := squatter.Get(t, bin, u, p.URL()+path); !strings.HasPrefix(got, "error") {
			t.Errorf("another user's GET %s through the proxy: %q, want no answer", path, got)
		}
	}
	if got, err := get(p, "/mine", p.Token()); err != nil || got != "ok /mine" {
		t.Errorf("the user's own GET: %q, %v", got, err)
	}
	if got := up.requests(); len(got) != 1 || got[0] != "/mine account-pw" {
		t.Errorf("the server saw %q, want only the user's own request", got)
	}
}

// TestProxyRefusesSquatter: another user listens on the account's port.
// A request through the proxy is closed unanswered, the squatter is never
// sent the password (nor the token), and the proxy fails for good with the
// port-in-use error naming it.
func TestProxyRefusesSquatter(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	bin := squatter.Build(t)
	port := testsys.Ports(t)
	sq := squatter.Start(t, bin, u, port)
	p := startProxy(t, Options{Port: port, Password: "account-pw", Warm: true, Ready: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	if got, err := get(p, "/global/event", p.Token()); err == nil {
		t.Errorf("a request through the proxy to the squatter was answered: %q", got)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy goes on with a squatter on the port")
	}
	var pie *opencode.PortInUseError
	if err := p.Err(); !errors.As(err, &pie) || pie.PID != sq.Pid() {
		t.Errorf("Err = %v, want the squatter's port-in-use error", err)
	}
	sq.Check(t, true)
}

// TestProxyHoldsUntilReady: a client that connects before the server is
// ready is held, not refused, and answered once Ready returns; after the
// server went away, the next request waits for Ready again and reaches the
// new server; an error from Ready ends the proxy and every held request.
func TestProxyHoldsUntilReady(t *testing.T) {
	t.Parallel()
	port := testsys.Ports(t)
	readies := make(chan chan error, 10)
	p := startProxy(t, Options{Port: port, Password: "account-pw", Ready: func(ctx context.Context) error {
		answer := make(chan error)
		readies <- answer
		select {
		case err := <-answer:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	first := <-readies // called at Start
	type result struct {
		body string
		err  error
	}
	held := make(chan result, 1)
	go func() { b, err := get(p, "/early", p.Token()); held <- result{b, err} }()
	select {
	case r := <-held:
		t.Fatalf("answered before the server was ready: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	up := startUpstream(t, port)
	first <- nil
	if r := <-held; r.err != nil || r.body != "ok /early" {
		t.Fatalf("the held request: %+v", r)
	}

	// The server goes away; a new request waits for the next one.
	up.close()
	go func() { b, err := get(p, "/later", p.Token()); held <- result{b, err} }()
	var again chan error
	select {
	case again = <-readies:
	case r := <-held:
		t.Fatalf("a request with the server gone was not held: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("Ready was not asked again after the server went away")
	}
	startUpstream(t, port)
	again <- nil
	if r := <-held; r.err != nil || r.body != "ok /later" {
		t.Fatalf("the request held across the restart: %+v", r)
	}

	// Ready's error ends the proxy.
	p2 := startProxy(t, Options{Port: testsys.Ports(t), Ready: func(ctx context.Context) error {
		time.Sleep(200 * time.Millisecond)
		return errors.New("phase failing")
	}})
	if _, err := get(p2, "/x", p2.Token()); err == nil {
		t.Errorf("a request was answered by a proxy whose server cannot run")
	}
	<-p2.Done()
	if err := p2.Err(); err == nil || err.Error() != "phase failing" {
		t.Errorf("Err = %v", err)
	}
}
