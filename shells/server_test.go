package shells_test

import (
	"bytes"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The helpers of the tests about servers (the tests with the real
// OpenCode are in shells/e2e).

// procs lists the pids whose command line has every one of words.
func procs(words ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		all := true
		for _, w := range words {
			found := false
			for _, a := range args {
				found = found || a == w || strings.HasSuffix(a, "/"+w)
			}
			all = all && found
		}
		if all {
			pids = append(pids, pid)
		}
	}
	return pids
}

// supervisors lists the pids of `oca serve NAME` run for the world (HOME
// is its home): other tests and other copies of the suite run supervisors
// of the same name.
func (w *world) supervisors(name string) []int {
	var out []int
	for _, pid := range procs("oca", "serve", name) {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil && hasHome(env, w.home) {
			out = append(out, pid)
		}
	}
	return out
}

// hasHome tells whether an environment as /proc/PID/environ holds it
// (NUL-separated) sets HOME to home.
func hasHome(environ []byte, home string) bool {
	return bytes.Contains(append([]byte{0}, environ...), []byte("\x00HOME="+home+"\x00"))
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}
