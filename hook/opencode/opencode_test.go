package opencode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/squatter"
)

// serve answers every request on a port of its own with handler.
func serve(t *testing.T, handler http.HandlerFunc) int {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// TestHealth: only a 200 with {"healthy":true} is healthy, the password
// goes as basic auth for user "opencode", and a server that accepts and
// never answers is given up within the probe's bound.
func TestHealth(t *testing.T) {
	t.Parallel()
	var sawUser, sawPass string
	healthy := serve(t, func(w http.ResponseWriter, r *http.Request) {
		sawUser, sawPass, _ = r.BasicAuth()
		if r.URL.Path != "/global/health" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"healthy":true,"version":"1.18.33"}`)
	})
	if ok, err := Health(context.Background(), healthy, "pw"); !ok || err != nil {
		t.Errorf("Health of a healthy server = %v, %v", ok, err)
	}
	if sawUser != User || sawPass != "pw" {
		t.Errorf("the server saw user %q password %q", sawUser, sawPass)
	}
	for name, body := range map[string]string{
		"a web page":  "<html>OpenCode</html>",
		"not healthy": `{"healthy":false}`,
	} {
		port := serve(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
		if ok, err := Health(context.Background(), port, "pw"); ok || err == nil {
			t.Errorf("Health of %s = %v, %v", name, ok, err)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept, never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	begin := time.Now()
	ok, err := Health(context.Background(), ln.Addr().(*net.TCPAddr).Port, "pw")
	if ok || err == nil {
		t.Errorf("Health of a silent server = %v, %v", ok, err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("Health took %s", d)
	}
}

// TestPortHolder: this process's listener is named, with its command.
func TestPortHolder(t *testing.T) {
	t.Parallel()
	// A port of the test's own, below the kernel's ephemeral range: one
	// from :0 was, once closed, sometimes another process's by the next
	// line (another test suite on the machine), and "still held".
	port := testsys.Ports(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	h, listening := PortHolder(port)
	if !listening || h.PID != os.Getpid() || h.UID != os.Getuid() || h.Cmd == "" {
		t.Errorf("PortHolder = %+v, %v; want this process %d", h, listening, os.Getpid())
	}
	msg := PortInUse(port, func(s string) string { return "REDACTED" }).Error()
	for _, want := range []string{"port " + strconv.Itoa(port), "pid " + strconv.Itoa(os.Getpid()), "REDACTED"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	ln.Close()
	if _, listening := PortHolder(port); listening {
		t.Errorf("a closed port is still held")
	}
	if !OwnListenersGone(port) {
		t.Errorf("OwnListenersGone of a closed port = false")
	}
}

// TestOtherUsersListener: another local user listens on the port and
// answers as a healthy OpenCode would; VerifyListener names them, and
// neither Health nor Dispose sends them the password.
func TestOtherUsersListener(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	port := testsys.Ports(t)
	if err := VerifyListener(port); !errors.Is(err, ErrNotListening) {
		t.Errorf("nothing listening: %v", err)
	}
	sq := squatter.Start(t, squatter.Build(t), u, port)
	wantSquatter := func(what string, err error) {
		t.Helper()
		var pie *PortInUseError
		if !errors.As(err, &pie) {
			t.Fatalf("%s: %v, want a PortInUseError", what, err)
		}
		if pie.Port != port || pie.PID != sq.Pid() || pie.User != u.Name || !strings.Contains(pie.Cmd, "squatter") || !pie.Foreign() {
			t.Errorf("%s: %+v, want port %d, pid %d, user %s, the squatter's command", what, pie, port, sq.Pid(), u.Name)
		}
	}
	wantSquatter("VerifyListener", VerifyListener(port))
	ok, err := Health(context.Background(), port, "pw")
	if ok {
		t.Errorf("Health of the squatter's port = true")
	}
	wantSquatter("Health", err)
	wantSquatter("Dispose", Client{Port: port, Password: "pw"}.Dispose(context.Background()))
	if _, err := (Client{Port: port, Password: "pw"}).BusySessions(context.Background()); err == nil {
		t.Errorf("BusySessions on the squatter's port succeeded")
	}
	if OwnListenersGone(port) != true {
		t.Errorf("another user's listener counts as the user's own")
	}
	sq.Check(t, true)
}
