package supervisor

import (
	"slices"
	"strings"
	"testing"
)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestBuildEnv(t *testing.T) {
	base := []string{
		"PATH=/usr/bin", "HOME=/home/u", "LANG=C.UTF-8", "LC_ALL=C", "TZ=UTC",
		"HTTPS_PROXY=http://proxy:1", "no_proxy=localhost", "SSL_CERT_FILE=/etc/ca.pem",
		"XDG_CONFIG_HOME=/home/u/.config", "XDG_RUNTIME_DIR=/run/user/1", "XDG_STATE_HOME=/home/u/.local/state",
		"ANTHROPIC_API_KEY=sk-ant-leak", "OPENAI_API_KEY=sk-leak", "XDG_DATA_HOME=/other/account",
		"OPENCODE_SERVER_PASSWORD=other-password", "OPENCODE_SERVER_USERNAME=someone", "TMPDIR=/tmp",
		"EDITOR=vim", "__OCA_STATE=x", "OPENCODE_PORT=1",
	}
	cfg := Config{DataHome: "/data/work", StateHome: "/state-home/work", Password: "pw", StateDir: "/state/work"}
	extra := map[string]string{
		"ANTHROPIC_BASE_URL":       "https://example.invalid",
		"XDG_DATA_HOME":            "/evil",
		"XDG_STATE_HOME":           "/evil",
		"OPENCODE_SERVER_PASSWORD": "evil",
		"OPENCODE_SERVER_USERNAME": "evil",
		"LANG":                     "de_DE.UTF-8",
	}
	env := BuildEnv(base, cfg, extra)
	m := envMap(env)
	want := map[string]string{
		"PATH": "/usr/bin", "HOME": "/home/u", "LANG": "de_DE.UTF-8", "LC_ALL": "C", "TZ": "UTC",
		"HTTPS_PROXY": "http://proxy:1", "no_proxy": "localhost", "SSL_CERT_FILE": "/etc/ca.pem",
		"XDG_CONFIG_HOME": "/home/u/.config", "XDG_RUNTIME_DIR": "/run/user/1",
		"XDG_DATA_HOME": "/data/work", "XDG_STATE_HOME": "/state-home/work", "OPENCODE_SERVER_PASSWORD": "pw", "TMPDIR": "/state/work/tmp",
		"ANTHROPIC_BASE_URL": "https://example.invalid",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	for k := range m {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected variable %s passed through", k)
		}
	}
	if len(m) != len(env) {
		t.Errorf("duplicate variables in %q", env)
	}
	// Without a state home of the account's, the caller's stays.
	cfg.StateHome = ""
	if got := envMap(BuildEnv(base, cfg, nil))["XDG_STATE_HOME"]; got != "/home/u/.local/state" {
		t.Errorf("XDG_STATE_HOME without a state home = %q", got)
	}
}

func TestBuildEnvNoPassword(t *testing.T) {
	env := BuildEnv([]string{"OPENCODE_SERVER_PASSWORD=x"}, Config{DataHome: "/d", StateDir: "/s"}, nil)
	if _, ok := envMap(env)["OPENCODE_SERVER_PASSWORD"]; ok {
		t.Errorf("password set without one: %q", env)
	}
}

func TestOverlayEnv(t *testing.T) {
	cfg := Config{DataHome: "/d", Password: "pw", StateDir: "/s"}
	got := overlayEnv([]string{"XDG_DATA_HOME=/x", "OPENCODE_SERVER_USERNAME=u", "A=1"}, cfg)
	want := []string{"A=1", "XDG_DATA_HOME=/d", "OPENCODE_SERVER_PASSWORD=pw", "TMPDIR=/s/tmp"}
	if !slices.Equal(got, want) {
		t.Errorf("overlayEnv = %q, want %q", got, want)
	}
	got = overlayEnv([]string{"TMPDIR=/mine"}, cfg)
	if envMap(got)["TMPDIR"] != "/mine" {
		t.Errorf("overlayEnv replaced the account's own TMPDIR: %q", got)
	}
	cfg.StateHome = "/sh"
	got = overlayEnv([]string{"XDG_STATE_HOME=/x", "A=1"}, cfg)
	if want := []string{"A=1", "XDG_DATA_HOME=/d", "XDG_STATE_HOME=/sh", "OPENCODE_SERVER_PASSWORD=pw", "TMPDIR=/s/tmp"}; !slices.Equal(got, want) {
		t.Errorf("overlayEnv = %q, want %q", got, want)
	}
}
