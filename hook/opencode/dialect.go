package opencode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// What differs between the OpenCodes oca runs, as the server and its
// clients see it. OpenCode 1.x: `serve`, GET /global/health, a reload is
// POST /global/dispose, busy sessions from /session/status. OpenCode 2: one
// background server per user, found through $XDG_STATE_HOME/opencode; the
// 2.0 preview (measured here) registers itself with `serve --register`
// (server.json, with the password in the file `password` beside it) and
// answers GET /api/health; the stable line (from its documentation and
// source: no stable binary was at hand) answers GET /api/info and registers
// in service.json. Neither has a reload route oca could find: a V2 server
// is restarted instead, once no session is busy.

// ErrNoReload says that this OpenCode has no way to reload a running
// server: it must be restarted.
var ErrNoReload = errors.New("this OpenCode cannot reload a running server")

// ServeArgs is the command line (after the binary) of the account's server
// on 127.0.0.1:port.
func (v Version) ServeArgs(port int) []string {
	args := []string{"serve", "--hostname", "127.0.0.1", "--port", strconv.Itoa(port)}
	if v.Preview {
		// Registered in the account's state home, so that V2's own
		// discovery (a client started without oca) finds this server.
		args = append(args, "--register")
	}
	return args
}

// healthPath is the route that says the server is ready.
func (v Version) healthPath() string {
	switch {
	case !v.V2():
		return "/global/health"
	case v.Preview:
		return "/api/health"
	}
	return "/api/info"
}

// healthy reads a health answer: V1 and the preview say {"healthy":true};
// the stable V2's /api/info says {"version":...,"pid":...}.
func (v Version) healthy(body []byte) error {
	var h struct {
		Healthy *bool  `json:"healthy"`
		Version string `json:"version"`
		PID     int    `json:"pid"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("not a health answer: %w", err)
	}
	switch {
	case h.Healthy != nil && *h.Healthy:
		return nil
	case h.Healthy != nil:
		return errors.New("not healthy")
	case v.V2() && !v.Preview && h.PID > 0:
		return nil
	}
	return errors.New("not a health answer")
}

// busyV2 counts the busy sessions of a V2 server: GET /api/session/active
// lists the sessions that are not idle ({"data":{"ses_…":{"type":"running"}}}).
func (c Client) busyV2(ctx context.Context) (int, error) {
	var active struct {
		Data map[string]struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := c.getJSON(ctx, "/api/session/active", &active); err != nil {
		return 0, err
	}
	busy := 0
	for _, s := range active.Data {
		if s.Type != "idle" {
			busy++
		}
	}
	return busy, nil
}

// Integration is one provider a V2 server knows, with the credentials it
// holds for it: labels only, never a secret.
type Integration struct {
	ID          string   `json:"id"`
	Credentials []string `json:"credentials,omitempty"` // their labels
	Env         []string `json:"env,omitempty"`         // variables it would read instead
}

// String is the integration as oca's status shows it: its id, and the
// labels of its credentials (or the variables it reads), never a secret:
// openai (work key), anthropic (env ANTHROPIC_API_KEY).
func (i Integration) String() string {
	var what []string
	what = append(what, i.Credentials...)
	for _, e := range i.Env {
		what = append(what, "env "+e)
	}
	if len(what) == 0 {
		return i.ID
	}
	return i.ID + " (" + strings.Join(what, ", ") + ")"
}

// Integrations lists what a V2 server holds credentials for: GET
// /api/integration, whose connections are {type:"credential", id, label}
// or {type:"env", name}. Providers with no connection are left out.
func (c Client) Integrations(ctx context.Context) ([]Integration, error) {
	if !c.Version.V2() {
		return nil, errors.New("integrations: only OpenCode 2 lists them")
	}
	var list []struct {
		ID          string `json:"id"`
		Connections []struct {
			Type  string `json:"type"`
			Label string `json:"label"`
			Name  string `json:"name"`
		} `json:"connections"`
	}
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	raw, err := c.getRaw(ctx, "/api/integration")
	if err != nil {
		return nil, err
	}
	if json.Unmarshal(raw, &list) != nil {
		if err := json.Unmarshal(raw, &wrapped); err != nil || json.Unmarshal(wrapped.Data, &list) != nil {
			return nil, errors.New("GET /api/integration: not the JSON OpenCode answers")
		}
	}
	var out []Integration
	for _, it := range list {
		in := Integration{ID: it.ID}
		for _, cn := range it.Connections {
			switch cn.Type {
			case "credential":
				in.Credentials = append(in.Credentials, cn.Label)
			case "env":
				in.Env = append(in.Env, cn.Name)
			}
		}
		if len(in.Credentials)+len(in.Env) > 0 {
			out = append(out, in)
		}
	}
	return out, nil
}

// getRaw GETs path and returns its body (8 MiB at most) when the answer
// is 200.
func (c Client) getRaw(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, path, 0)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return data, nil
}
