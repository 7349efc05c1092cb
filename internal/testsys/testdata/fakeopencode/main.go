// Command fakeopencode stands in for `opencode serve` in the supervisor's
// tests. It takes the same arguments (serve --hostname H --port P) and
// behaves as FAKE_MODE says:
//
//	ok           listen, answer /global/health (basic auth opencode:$OPENCODE_SERVER_PASSWORD)
//	crash        print a few lines and exit 3 at once
//	never        never listen; sleep until killed
//	hang         listen and accept, but never answer
//	ignore-term  like ok, but ignore SIGTERM (and so does a child in its group)
//	slow         like ok after FAKE_DELAY (a Go duration)
//
// FAKE_CRASH_TIMES=N with FAKE_COUNTER=FILE: crash the first N starts, then ok.
// FAKE_ENV_FILE=FILE: write the environment there at start.
// FAKE_RECORD=FILE: append "dispose" for each POST /global/dispose.
// FAKE_DISPOSE_FAIL=FILE: while FILE exists, POST /global/dispose fails
// (status 500, and nothing recorded).
// FAKE_INSTANCES=FILE: append "METHOD PATH FROM DIR" for each request to an
// instance route (any but /global/...), FROM being where OpenCode takes its
// directory from: "query" (?directory=), "header" (x-opencode-directory) or
// "cwd" (none named: its working directory, an instance built there).
// FAKE_BUSY=FILE: while FILE exists, one session (in directory /fake) is
// busy: GET /experimental/session lists it, GET /session/status says busy.
// FAKE_PRINT_SECRET=1: print the password and an sk- key, to test redaction.
// FAKE_CHILD=1: start a child in the same process group (sleeps forever).
//
// Any other command than serve prints itself, the account and whether a
// password was set, and exits 0; --version prints 1.18.0-fake.
//
// FAKE_VERSION=2.x.y makes it OpenCode 2 instead (v2.go).
package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if v := os.Getenv("FAKE_VERSION"); strings.HasPrefix(v, "2.") {
		v2Main(v)
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "child" {
		if os.Getenv("FAKE_MODE") == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		time.Sleep(time.Hour)
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fakeopencode serve --hostname H --port P")
		os.Exit(2)
	}
	if os.Args[1] != "serve" {
		// Any other command (--version, auth login, attach, run) says what
		// it was asked and for which account, for the README's tests.
		if os.Args[1] == "--version" {
			fmt.Println("1.18.0-fake")
			return
		}
		fmt.Printf("fake opencode %s (account %s, password set: %t)\n", strings.Join(os.Args[1:], " "),
			os.Getenv("OPENCODE_ACCOUNT"), os.Getenv("OPENCODE_SERVER_PASSWORD") != "")
		return
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	host := fs.String("hostname", "127.0.0.1", "")
	port := fs.Int("port", 4096, "")
	_ = fs.Parse(os.Args[2:])

	if f := os.Getenv("FAKE_ENV_FILE"); f != "" {
		_ = os.WriteFile(f, []byte(strings.Join(os.Environ(), "\n")+"\n"), 0o600)
	}
	mode := os.Getenv("FAKE_MODE")
	if n, _ := strconv.Atoi(os.Getenv("FAKE_CRASH_TIMES")); n > 0 {
		counter := os.Getenv("FAKE_COUNTER")
		b, _ := os.ReadFile(counter)
		c, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		_ = os.WriteFile(counter, []byte(strconv.Itoa(c+1)), 0o600)
		if c < n {
			mode = "crash"
		}
	}
	password := os.Getenv("OPENCODE_SERVER_PASSWORD")
	fmt.Println("fakeopencode starting, mode", mode)
	if os.Getenv("FAKE_PRINT_SECRET") == "1" {
		fmt.Println("password is " + password + " and key is sk-ant-fake-printed-1234")
	}
	if os.Getenv("FAKE_CHILD") == "1" {
		self, _ := os.Executable()
		c := exec.Command(self, "child")
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
		}
	}
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "Error: Unexpected error")
		fmt.Fprintln(os.Stderr, "fake crash")
		os.Exit(3)
	case "never":
		time.Sleep(time.Hour)
		return
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	case "slow":
		d, _ := time.ParseDuration(os.Getenv("FAKE_DELAY"))
		time.Sleep(d)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error: Unexpected error\n\nServeError")
		os.Exit(1)
	}
	if mode == "hang" {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /global/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"healthy":true,"version":"fake"}`)
	})
	mux.HandleFunc("POST /global/dispose", func(w http.ResponseWriter, r *http.Request) {
		if f := os.Getenv("FAKE_DISPOSE_FAIL"); f != "" {
			if _, err := os.Stat(f); err == nil {
				http.Error(w, "dispose failed", http.StatusInternalServerError)
				return
			}
		}
		if f := os.Getenv("FAKE_RECORD"); f != "" {
			af, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				fmt.Fprintln(af, "dispose")
				af.Close()
			}
		}
		fmt.Fprint(w, "true")
	})
	mux.HandleFunc("GET /experimental/session", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `[{"id":"ses_1","directory":"/fake","time":{"created":%d,"updated":%d}}]`, time.Now().UnixMilli(), time.Now().UnixMilli())
	})
	mux.HandleFunc("GET /session/status", func(w http.ResponseWriter, r *http.Request) {
		if f := os.Getenv("FAKE_BUSY"); f != "" && r.URL.Query().Get("directory") == "/fake" {
			if _, err := os.Stat(f); err == nil {
				fmt.Fprint(w, `{"ses_1":{"type":"busy"}}`)
				return
			}
		}
		fmt.Fprint(w, `{}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>web ui</html>")
	})
	auth := func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if password != "" && (!ok || u != "opencode" || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		recordInstance(r)
		mux.ServeHTTP(w, r)
	}
	fmt.Printf("opencode server listening on http://%s:%d\n", *host, *port)
	_ = http.Serve(ln, http.HandlerFunc(auth))
}

// recordInstance appends r to FAKE_INSTANCES when it is a request to an
// instance route, with the directory OpenCode would build its instance for.
func recordInstance(r *http.Request) {
	f := os.Getenv("FAKE_INSTANCES")
	if f == "" || strings.HasPrefix(r.URL.Path, "/global/") {
		return
	}
	from, dir := "query", r.URL.Query().Get("directory")
	if dir == "" {
		from, dir = "header", r.Header.Get("x-opencode-directory")
	}
	if dir == "" {
		from, dir = "cwd", ""
		if wd, err := os.Getwd(); err == nil {
			dir = wd
		}
	}
	af, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer af.Close()
	fmt.Fprintf(af, "%s %s %s %s\n", r.Method, r.URL.Path, from, dir)
}
