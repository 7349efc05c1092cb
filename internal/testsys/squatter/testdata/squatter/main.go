// Command squatter plays a hostile local user in oca's tests (run as
// another user than oca's):
//
//	squatter serve PORT RECORD   bind 127.0.0.1:PORT (trying every
//	                             millisecond for up to a minute until it
//	                             can), print "listening", and answer every
//	                             request 200 {"healthy":true}, as an
//	                             OpenCode would. RECORD gets a line "conn"
//	                             for each connection accepted and, for each
//	                             request, "auth METHOD PATH" when it came with
//	                             an Authorization header (the password) or
//	                             "noauth METHOD PATH" when it did not.
//	squatter await PORT RECORD   the same as serve, but trying to bind
//	                             until it can, however long that takes, as
//	                             one who waits for the account's server to
//	                             go away would (SO_REUSEADDR, as Go sets
//	                             it: a port whose last connections are in
//	                             TIME_WAIT binds at once).
//	squatter hold PORT           connect to 127.0.0.1:PORT, print
//	                             "connected", and hold the connection open
//	                             until killed.
//	squatter get URL             GET URL with basic auth opencode:guess and
//	                             print "status N" or "error ...": a client
//	                             of another user's.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if os.Args[1] == "get" {
		get(os.Args[2])
		return
	}
	addr := net.JoinHostPort("127.0.0.1", os.Args[2])
	switch {
	case os.Args[1] == "serve" && len(os.Args) == 4:
		serve(addr, os.Args[3], time.Minute)
	case os.Args[1] == "await" && len(os.Args) == 4:
		serve(addr, os.Args[3], 0)
	case os.Args[1] == "hold":
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer c.Close()
		fmt.Println("connected")
		time.Sleep(time.Hour)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
}

const usage = "usage: squatter serve|await PORT RECORD | squatter hold PORT | squatter get URL"

func get(url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		fmt.Println("error", err)
		return
	}
	req.SetBasicAuth("opencode", "guess")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println("error", err)
		return
	}
	resp.Body.Close()
	fmt.Println("status", resp.StatusCode)
}

// serve binds addr, trying every millisecond for up to limit (0: for
// ever), and answers as a healthy OpenCode.
func serve(addr, record string, limit time.Duration) {
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(limit); ; time.Sleep(time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || limit > 0 && time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	note := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		fmt.Fprintln(f, line)
		f.Close()
	}
	note("listening")
	fmt.Println("listening")
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			how := "noauth"
			if r.Header.Get("Authorization") != "" {
				how = "auth"
			}
			note(how + " " + r.Method + " " + r.URL.Path)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"healthy":true,"version":"squatter"}`)
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				note("conn")
			}
		},
	}
	_ = srv.Serve(ln)
}
