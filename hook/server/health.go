package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// basicAuthUser is the user name OpenCode's server expects with
// OPENCODE_SERVER_PASSWORD: OPENCODE_SERVER_USERNAME, default "opencode".
// BuildEnv never passes OPENCODE_SERVER_USERNAME on, so it is always this.
const basicAuthUser = "opencode"

// probeTimeout bounds one health probe: early connections to OpenCode can be
// accepted and never answered.
const probeTimeout = 200 * time.Millisecond

// dialBudget bounds connecting to a server and checking whose socket
// answered (/proc/net/tcp, and /proc/*/fd to name a stranger): instant on
// an idle machine, slower on a loaded one.
const dialBudget = 2 * time.Second

// serverURL is the base URL of the server on port.
func serverURL(port int) string {
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// request does one request to the server on port with basic auth and no
// keep-alive (an idle kept-alive connection would count as a client and
// keep the server from its idle shutdown), over a connection whose other
// end passed check (see dialGuarded): the password goes nowhere else.
func request(ctx context.Context, method string, port int, path, password string, check listenerCheck) (*http.Response, error) {
	return requestWithin(ctx, method, port, path, password, check, 0)
}

// requestWithin is request with the server's answer bounded by
// headerTimeout (0: by ctx alone), apart from the connection and its check,
// which a loaded machine can make slow.
func requestWithin(ctx context.Context, method string, port int, path, password string, check listenerCheck, headerTimeout time.Duration) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, serverURL(port)+path, nil)
	if err != nil {
		return nil, err
	}
	if password != "" {
		req.SetBasicAuth(basicAuthUser, password)
	}
	client := &http.Client{
		Transport: &http.Transport{
			DisableKeepAlives:     true,
			Proxy:                 nil,
			ResponseHeaderTimeout: headerTimeout,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialGuarded(ctx, port, check)
			},
		},
		// A redirect could lead the password elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return client.Do(req)
}

// Health asks the server on 127.0.0.1:port whether it is ready: GET
// /global/health with basic auth, its answer within 200 ms. It is true only when the
// answer is 200 with a JSON body holding "healthy": true (OpenCode answers
// unknown paths with its web page, so a status code alone proves nothing).
// When false, the error says why: a *PortInUseError when the socket that
// answered is another user's (it was not sent the password).
func Health(ctx context.Context, port int, password string) (bool, error) {
	return health(ctx, port, password, ownUser)
}

// health is Health over a connection that passed check.
func health(ctx context.Context, port int, password string, check listenerCheck) (bool, error) {
	// The answer within probeTimeout; connecting and checking the socket's
	// owner within dialBudget more.
	ctx, cancel := context.WithTimeout(ctx, probeTimeout+dialBudget)
	defer cancel()
	resp, err := requestWithin(ctx, http.MethodGet, port, "/global/health", password, check, probeTimeout)
	if err != nil {
		return false, fmt.Errorf("health of port %d: %w", port, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("health of port %d: status %d", port, resp.StatusCode)
	}
	var body struct {
		Healthy bool `json:"healthy"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
		return false, fmt.Errorf("health of port %d: not a health answer: %w", port, err)
	}
	if !body.Healthy {
		return false, fmt.Errorf("health of port %d: not healthy", port)
	}
	return true, nil
}

// waitPoll is how often WaitReady probes: a refused connection costs
// microseconds, and the poll adds at most this to the time to ready.
const waitPoll = 25 * time.Millisecond

// WaitReady polls the account's server every 25 ms until it is healthy or
// ctx is done. It returns early with the reason when the account's
// supervisor gives up (phase "failing" written after WaitReady began), and
// at once with a *PortInUseError when the port is another user's.
func WaitReady(ctx context.Context, cfg Config) error {
	begin := time.Now()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	var last error
	for {
		ok, err := Health(ctx, cfg.Port, cfg.Password)
		if ok {
			return nil
		}
		if pie := (*PortInUseError)(nil); errors.As(err, &pie) {
			return fmt.Errorf("wait for server of %s: %w", cfg.Account, pie)
		}
		last = err
		if cfg.StateDir != "" {
			if st, err := readStatusFile(cfg.StateDir); err == nil && st.Phase == PhaseFailing && st.UpdatedAt.After(begin) {
				return fmt.Errorf("server of %s failed: %s", cfg.Account, st.LastError)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server of %s on port %d: %w (last: %v)", cfg.Account, cfg.Port, context.Cause(ctx), last)
		case <-tick.C:
		}
	}
}

// dispose makes the running server drop the state of every instance (every
// project directory a client used), so that each reads auth.json and the
// config anew: POST /global/dispose, over a connection that passed check.
// (POST /instance/dispose reaches only the instance of the server's own
// directory.)
func dispose(ctx context.Context, port int, password string, check listenerCheck) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := request(ctx, http.MethodPost, port, "/global/dispose", password, check)
	if err != nil {
		return fmt.Errorf("dispose instance on port %d: %w", port, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dispose instance on port %d: status %d", port, resp.StatusCode)
	}
	return nil
}
