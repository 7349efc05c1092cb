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
//	squatter hold PORT           connect to 127.0.0.1:PORT, print
//	                             "connected", and hold the connection open
//	                             until killed.
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
		fmt.Fprintln(os.Stderr, "usage: squatter serve PORT RECORD | squatter hold PORT")
		os.Exit(2)
	}
	addr := net.JoinHostPort("127.0.0.1", os.Args[2])
	switch {
	case os.Args[1] == "serve" && len(os.Args) == 4:
		serve(addr, os.Args[3])
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
		fmt.Fprintln(os.Stderr, "usage: squatter serve PORT RECORD | squatter hold PORT")
		os.Exit(2)
	}
}

func serve(addr, record string) {
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
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
