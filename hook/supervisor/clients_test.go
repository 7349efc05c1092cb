package supervisor

import (
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
)

// Clients counts processes, not connections: two connections of this
// process count once, a child's connection once more.
func TestClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	if p, c, err := Clients(port, 0); err != nil || p != 0 || c != 0 {
		t.Fatalf("no client: %d procs, %d conns, %v", p, c, err)
	}
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	waitClients(t, port, 1, 2)
	// Another process: bash's /dev/tcp holds a connection while it sleeps.
	child := exec.Command("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+itoa(port)+"; sleep 30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	waitClients(t, port, 2, 3)
	for _, c := range conns {
		c.Close()
	}
	waitClients(t, port, 1, 1)
}

func waitClients(t *testing.T, port, procs, conns int) {
	t.Helper()
	var p, c int
	var err error
	if !testsys.Poll(5*time.Second, func() bool {
		p, c, err = Clients(port, 0)
		return err == nil && p == procs && c == conns
	}) {
		t.Fatalf("Clients = %d procs, %d conns, %v; want %d, %d", p, c, err, procs, conns)
	}
}

// TestClientsLeaveOutTheSupervisor is issue 17's item 10: the CLIENTS of a
// starting server counted the supervisor's own health probe. An OpenCode
// that accepts and never answers keeps a probe's connection open all
// along: it is there, and it is no client.
func TestClientsLeaveOutTheSupervisor(t *testing.T) {
	a := newAccount(t, "probe")
	cfg := a.cfg
	stopAtEnd(t, cfg)
	if _, err := Ensure(cfg, bins.ocaserve, serveArgs(t, cfg, map[string]string{"FAKE_MODE": "hang"})...); err != nil {
		t.Fatal(err)
	}
	var sup int
	testsys.Eventually(t, testsys.OpencodeWait(), "the supervisor's probe connected", func() bool {
		st, err := ReadStatus(cfg.StateDir)
		if err != nil || st.SupervisorPID == 0 || st.SupervisorPID == os.Getpid() {
			return false
		}
		sup = st.SupervisorPID
		p, _, _ := Clients(cfg.Port, 0)
		return p == 1
	})
	for range 30 {
		if p, c, err := Clients(cfg.Port, sup); err != nil || p != 0 || c != 0 {
			t.Fatalf("Clients = %d procs, %d conns, %v while only the supervisor probes; want 0, 0", p, c, err)
		}
	}
}
