package main

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// OpenCode 2, as its documentation and source describe the stable line
// (https://opencode.ai/docs/cli/commands, the v2 troubleshooting page, and
// anomalyco/opencode's packages/cli and packages/client), for oca's tests of
// the client side: npm's 2.0 preview has no TUI and no run. It is chosen by
// FAKE_VERSION=2.x.y (a wrapper script sets it, so that server and clients
// alike get it).
//
//	--version                 opencode v2.x.y
//	--help                    the Effect CLI's layout, with its subcommands
//	serve --hostname H --port P [--service]
//	                          a server: GET /api/info {version, pid},
//	                          GET /api/health, GET /api/session/active,
//	                          GET /api/integration (one credential, labelled
//	                          "key of ACCOUNT", its data home's name),
//	                          POST /fake/run (a prompt's reply, naming the
//	                          server's XDG_DATA_HOME); basic auth opencode
//	                          with OPENCODE_SERVER_PASSWORD, or with
//	                          --service a password of its own, registered in
//	                          $XDG_STATE_HOME/opencode/service.json
//	[DIR] [--server URL]      the TUI: a client of URL, or of the server
//	                          $XDG_STATE_HOME/opencode/service.json names,
//	                          started there (serve --service) when none
//	                          answers; it records what it did in
//	                          FAKE_CLIENT_LOG and, with HOLD set, stays
//	run MESSAGE [--server URL] prints the reply
//	OTHER ARGS...             prints them, the state home, and the server
//	                          V2's discovery finds there ("none")
//	service start|stop|restart|status
//	attach, run --attach      fail loudly: OpenCode 2 has neither
//
// A client with --server takes its password from OPENCODE_PASSWORD, falling
// back to OPENCODE_SERVER_PASSWORD, user "opencode".

func v2Main(version string) {
	args := os.Args[1:]
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-v"):
		fmt.Println("opencode v" + version)
		return
	case len(args) > 0 && (args[0] == "--help" || args[0] == "-h"):
		fmt.Print("DESCRIPTION\n  OpenCode command line interface\n\nUSAGE\n  opencode [directory] [flags]\n\nSUBCOMMANDS\n  run      Send a message and print the reply\n  service  Manage the background server\n  serve    Start the server\n  auth     Manage credentials\n  acp      Start an ACP server\n  reload   Reload configuration\n")
		return
	case len(args) > 0 && args[0] == "attach":
		fatal(2, "Unknown command: attach (OpenCode 2 has no attach; clients take --server URL)")
	case len(args) > 0 && args[0] == "serve":
		v2Serve(version, args[1:])
		return
	case len(args) > 0 && args[0] == "service":
		v2Service(version, args[1:])
		return
	}
	logClient(args)
	if len(args) > 0 && args[0] == "run" {
		v2Run(version, args[1:])
		return
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
			// Another subcommand (auth, models, ...): says what it was
			// asked, and which server V2's discovery finds (none: it
			// would have started one).
			url, _ := connect(version, "", false, false)
			if url == "" {
				url = "none"
			}
			fmt.Printf("fake opencode2 %s (state home %s, server %s)\n", strings.Join(args, " "), os.Getenv("XDG_STATE_HOME"), url)
			return
		}
	}
	v2TUI(version, args)
}

func fatal(code int, format string, a ...any) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", a...)
	os.Exit(code)
}

// logClient appends the client's command line and the server it was given
// to FAKE_CLIENT_LOG.
func logClient(args []string) {
	path := os.Getenv("FAKE_CLIENT_LOG")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	pw := "none"
	switch {
	case os.Getenv("OPENCODE_PASSWORD") != "":
		pw = "OPENCODE_PASSWORD"
	case os.Getenv("OPENCODE_SERVER_PASSWORD") != "":
		pw = "OPENCODE_SERVER_PASSWORD"
	}
	fmt.Fprintf(f, "%d\t%s\t%s\t%s\n", os.Getpid(), os.Getenv("XDG_STATE_HOME"), pw, strings.Join(args, " "))
}

// clientFlags takes --server URL and --standalone out of args.
func clientFlags(args []string) (rest []string, server string, standalone bool) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--attach" || strings.HasPrefix(a, "--attach="):
			fatal(2, "Unknown argument: --attach (OpenCode 2's run takes --server URL)")
		case a == "--server" && i+1 < len(args):
			server = args[i+1]
			i++
		case strings.HasPrefix(a, "--server="):
			server = strings.TrimPrefix(a, "--server=")
		case a == "--standalone":
			standalone = true
		default:
			rest = append(rest, a)
		}
	}
	if server != "" && standalone {
		fatal(2, "--server and --standalone exclude each other")
	}
	return rest, server, standalone
}

// registration is $XDG_STATE_HOME/opencode/service.json.
type registration struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	URL      string `json:"url"`
	PID      int    `json:"pid"`
	Password string `json:"password"`
}

func stateFile() string {
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		state = filepath.Join(os.Getenv("HOME"), ".local", "state")
	}
	return filepath.Join(state, "opencode", "service.json")
}

func readRegistration() (registration, bool) {
	b, err := os.ReadFile(stateFile())
	var r registration
	if err != nil || json.Unmarshal(b, &r) != nil || r.URL == "" {
		return registration{}, false
	}
	return r, true
}

// info asks url's /api/info with password: its pid, or an error.
func info(url, password string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url+"/api/info", nil)
	if password != "" {
		req.SetBasicAuth("opencode", password)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the server rejected the password (%d)", resp.StatusCode)
	}
	var in struct {
		PID int `json:"pid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return 0, err
	}
	return in.PID, nil
}

// connect is the server a client uses, with its password: --server's, or
// the registered one (checked: /api/info names the registered pid), or one
// it starts (serve --service) when none answers.
func connect(version, server string, standalone, spawn bool) (url, password string) {
	if standalone {
		fatal(1, "--standalone: this fake has no private server")
	}
	if server != "" {
		password = os.Getenv("OPENCODE_PASSWORD")
		if password == "" {
			password = os.Getenv("OPENCODE_SERVER_PASSWORD")
		}
		if password == "" {
			fatal(1, "%s requires a password; set OPENCODE_PASSWORD", server)
		}
		if _, err := info(server, password); err != nil {
			fatal(1, "%s: %v", server, err)
		}
		return server, password
	}
	if r, ok := readRegistration(); ok {
		if pid, err := info(r.URL, r.Password); err == nil && pid == r.PID {
			return r.URL, r.Password
		}
	}
	if !spawn {
		return "", ""
	}
	self, _ := os.Executable()
	cmd := exec.Command(self, "serve", "--service")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fatal(1, "starting the background server: %v", err)
	}
	for range 200 {
		if r, ok := readRegistration(); ok {
			if pid, err := info(r.URL, r.Password); err == nil && pid == r.PID {
				return r.URL, r.Password
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	fatal(1, "the background server did not start")
	return "", ""
}

func v2TUI(version string, args []string) {
	rest, server, standalone := clientFlags(args)
	url, password := connect(version, server, standalone, true)
	dir, _ := os.Getwd()
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") {
			dir = a
		}
	}
	fmt.Printf("fake opencode2 tui on %s in %s\n", url, dir)
	if os.Getenv("HOLD") != "" {
		// An event stream held open, as the TUI's is.
		req, _ := http.NewRequest(http.MethodGet, url+"/api/event", nil)
		req.SetBasicAuth("opencode", password)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
		}
		time.Sleep(300 * time.Second)
	}
}

func v2Run(version string, args []string) {
	rest, server, standalone := clientFlags(args)
	url, password := connect(version, server, standalone, true)
	req, _ := http.NewRequest(http.MethodPost, url+"/fake/run", strings.NewReader(strings.Join(rest, " ")))
	req.SetBasicAuth("opencode", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fatal(1, "run: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fatal(1, "run: status %d: %s", resp.StatusCode, b)
	}
	os.Stdout.Write(b)
}

func v2Service(version string, args []string) {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "status":
		if url, _ := connect(version, "", false, false); url != "" {
			fmt.Println("running " + url)
			return
		}
		fmt.Println("stopped")
	case "start":
		url, _ := connect(version, "", false, true)
		fmt.Println("running " + url)
	case "stop", "restart":
		if r, ok := readRegistration(); ok {
			syscall.Kill(r.PID, syscall.SIGTERM)
			os.Remove(stateFile())
		}
		if sub == "restart" {
			url, _ := connect(version, "", false, true)
			fmt.Println("running " + url)
			return
		}
		fmt.Println("stopped")
	default:
		fatal(2, "service %s: not in this fake", sub)
	}
}

func v2Serve(version string, args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	host := fs.String("hostname", "127.0.0.1", "")
	port := fs.Int("port", 0, "")
	service := fs.Bool("service", false, "")
	_ = fs.Parse(args)
	if f := os.Getenv("FAKE_ENV_FILE"); f != "" {
		_ = os.WriteFile(f, []byte(strings.Join(os.Environ(), "\n")+"\n"), 0o600)
	}
	password := os.Getenv("OPENCODE_SERVER_PASSWORD")
	if *service {
		b := make([]byte, 16)
		rand.Read(b)
		password = hex.EncodeToString(b)
		if *port == 0 {
			*port = 49374
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fatal(1, "listen: %v", err)
	}
	url := "http://" + ln.Addr().String()
	if *service {
		b, _ := json.Marshal(registration{ID: "fake", Version: version, URL: url, PID: os.Getpid(), Password: password})
		os.MkdirAll(filepath.Dir(stateFile()), 0o700)
		os.WriteFile(stateFile(), b, 0o600)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/info", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"version":%q,"pid":%d,"urls":[%q]}`, version, os.Getpid(), url)
	})
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"healthy":true,"version":%q,"pid":%d}`, version, os.Getpid())
	})
	mux.HandleFunc("GET /api/session/active", func(w http.ResponseWriter, r *http.Request) {
		if f := os.Getenv("FAKE_BUSY"); f != "" {
			if _, err := os.Stat(f); err == nil {
				fmt.Fprint(w, `{"data":{"ses_1":{"type":"running"}}}`)
				return
			}
		}
		fmt.Fprint(w, `{"data":{}}`)
	})
	mux.HandleFunc("GET /api/integration", func(w http.ResponseWriter, r *http.Request) {
		// One credential, labelled after the data home's last element
		// (the account), and a provider with none.
		fmt.Fprintf(w, `[{"id":"openai","connections":[{"type":"credential","id":"cred_1","label":"key of %s"}]},{"id":"opencode","connections":[]}]`,
			filepath.Base(os.Getenv("XDG_DATA_HOME")))
	})
	mux.HandleFunc("GET /api/event", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /fake/run", func(w http.ResponseWriter, r *http.Request) {
		msg, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "reply to %q from the server of %s\n", bytes.TrimSpace(msg), os.Getenv("XDG_DATA_HOME"))
	})
	fmt.Printf("server listening on %s\n", url)
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if password != "" && (!ok || u != "opencode" || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}
