package opencode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// User is the user name OpenCode's server expects with
// OPENCODE_SERVER_PASSWORD (OPENCODE_SERVER_USERNAME, whose default this
// is; oca never passes that variable on).
const User = "opencode"

// probeTimeout bounds the answer to one health probe: early connections to
// OpenCode can be accepted and never answered.
const probeTimeout = 200 * time.Millisecond

// dialBudget bounds connecting to a server and checking whose socket
// answered (nettcp, and /proc/*/fd to name a stranger): instant on
// an idle machine, slower on a loaded one.
const dialBudget = 2 * time.Second

// URL is the base URL of the server on 127.0.0.1:port.
func URL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// Client talks to the OpenCode server on 127.0.0.1:Port with Password,
// over connections whose other end passed Check (nil: OwnUser), in the
// routes of Version (the zero Version: OpenCode 1.x).
type Client struct {
	Port     int
	Password string
	Check    Check
	Version  Version
	// Dir is the directory that the requests to an instance route which
	// are for no project of their own name, in the x-opencode-directory
	// header (OpenCode 1.x builds the instance of a request that names none
	// in its working directory, loading the config of every directory
	// above it): the server's own quiet directory (see the supervisor).
	// "": "/".
	Dir string
}

// instanceDir is the directory c's requests for no project name.
func (c Client) instanceDir() string {
	if c.Dir == "" {
		return "/"
	}
	return c.Dir
}

// do sends one request with basic auth and no keep-alive (an idle
// kept-alive connection would count as a client and keep the server from
// its idle shutdown). The server's answer is bounded by headerTimeout (0:
// by ctx alone), apart from the connection and its check, which a loaded
// machine can make slow.
func (c Client) do(ctx context.Context, method, path string, headerTimeout time.Duration) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, URL(c.Port)+path, nil)
	if err != nil {
		return nil, err
	}
	if c.Password != "" {
		req.SetBasicAuth(User, c.Password)
	}
	if !c.Version.V2() && !strings.Contains(path, "directory=") {
		// The instance a request is for, where it names none in its query
		// (where ?directory= would also filter: GET /experimental/session
		// lists only that directory's sessions with it).
		req.Header.Set("x-opencode-directory", c.instanceDir())
	}
	check := c.Check
	if check == nil {
		check = OwnUser
	}
	client := &http.Client{
		Transport: &http.Transport{
			DisableKeepAlives:     true,
			Proxy:                 nil,
			ResponseHeaderTimeout: headerTimeout,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return Dial(ctx, c.Port, check)
			},
		},
		// A redirect could lead the password elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return client.Do(req)
}

// Health asks the server whether it is ready: GET /global/health (V1;
// V2: /api/health, or /api/info on the stable line), its answer within
// 200 ms. It is true only when the answer is 200 with a JSON body that says
// so (OpenCode 1.x answers unknown paths with its web page, so a status
// code alone proves nothing). When false, the error says why: a
// *PortInUseError when the socket that answered failed the check (it was
// not sent the password).
func (c Client) Health(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout+dialBudget)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, c.Version.healthPath(), probeTimeout)
	if err != nil {
		return false, fmt.Errorf("health of port %d: %w", c.Port, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("health of port %d: status %d", c.Port, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil {
		err = c.Version.healthy(body)
	}
	if err != nil {
		return false, fmt.Errorf("health of port %d: %w", c.Port, err)
	}
	return true, nil
}

// Health is Client.Health of OpenCode 1.x for a client of the user's
// (OwnUser).
func Health(ctx context.Context, port int, password string) (bool, error) {
	return Client{Port: port, Password: password}.Health(ctx)
}

// disposeTimeout bounds Dispose's wait for the server's answer.
const disposeTimeout = 30 * time.Second

// Dispose makes the server drop the state of every instance (every
// project directory a client used), so that each reads auth.json and the
// config anew: POST /global/dispose. (POST /instance/dispose reaches only
// the instance of the server's own directory.) OpenCode 2 has no such
// route: ErrNoReload.
func (c Client) Dispose(ctx context.Context) error {
	if c.Version.V2() {
		return ErrNoReload
	}
	// OpenCode answers once every instance is disposed: on a loaded
	// machine that took more than 5 s.
	ctx, cancel := context.WithTimeout(ctx, disposeTimeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPost, "/global/dispose", 0)
	if err != nil {
		return fmt.Errorf("dispose instance on port %d: %w", c.Port, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dispose instance on port %d: status %d", c.Port, resp.StatusCode)
	}
	return nil
}

// recentSessions is how far back a session's last update may lie for its
// directory to be asked whether it is busy: a busy session writes its
// messages as it goes.
const recentSessions = 6 * time.Hour

// BusySessions counts the server's sessions that are busy (or retrying).
// On OpenCode 1.x GET /session/status answers for one directory's
// instance, so it asks each directory that has a session updated recently
// (GET /experimental/session); OpenCode 2 lists them all at once.
func (c Client) BusySessions(ctx context.Context) (int, error) {
	if c.Version.V2() {
		return c.busyV2(ctx)
	}
	var sessions []struct {
		Directory string `json:"directory"`
		Time      struct {
			Updated int64 `json:"updated"`
		} `json:"time"`
	}
	if err := c.getJSON(ctx, "/experimental/session?limit=100", &sessions); err != nil {
		return 0, err
	}
	dirs := map[string]bool{}
	for _, s := range sessions {
		if s.Directory != "" && time.Since(time.UnixMilli(s.Time.Updated)) < recentSessions {
			dirs[s.Directory] = true
		}
	}
	keys := make([]string, 0, len(dirs))
	for d := range dirs {
		keys = append(keys, d)
	}
	sort.Strings(keys)
	busy := 0
	for _, d := range keys {
		var status map[string]struct {
			Type string `json:"type"`
		}
		if err := c.getJSON(ctx, "/session/status?directory="+url.QueryEscape(d), &status); err != nil {
			return 0, err
		}
		for _, st := range status {
			if st.Type != "idle" {
				busy++
			}
		}
	}
	return busy, nil
}

// Do sends one request to the server (see Client), for what the routes
// above do not cover.
func (c Client) Do(ctx context.Context, method, path string) (*http.Response, error) {
	return c.do(ctx, method, path, 0)
}

// getJSON GETs path from the server and decodes its JSON answer.
func (c Client) getJSON(ctx context.Context, path string, out any) error {
	data, err := c.getRaw(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GET %s: not the JSON OpenCode answers", path)
	}
	return nil
}
