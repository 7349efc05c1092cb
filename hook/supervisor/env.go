package supervisor

import (
	"path/filepath"
	"slices"
	"strings"
)

// baseVars are the variables of the caller's environment that reach
// OpenCode. Everything else is dropped: a provider key that one shell
// exported must never reach an account's server.
var baseVars = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS",
	"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
}

// proxyVars are kept in any letter case.
var proxyVars = []string{"http_proxy", "https_proxy", "no_proxy", "all_proxy"}

// protectedVars identify the account and the server's credentials: the
// account's own env table cannot replace them.
var protectedVars = []string{"XDG_DATA_HOME", "XDG_STATE_HOME", "OPENCODE_CONFIG_DIR", "OPENCODE_SERVER_PASSWORD", "OPENCODE_PASSWORD", "OPENCODE_SERVER_USERNAME"}

func keepBaseVar(name string) bool {
	if slices.Contains(baseVars, name) || strings.HasPrefix(name, "LC_") {
		return true
	}
	return slices.Contains(proxyVars, strings.ToLower(name))
}

// BuildEnv builds the environment OpenCode runs with for one account. It is
// built, not inherited: from base (usually os.Environ()) it keeps only the
// user's base variables (PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, LC_*,
// TZ, proxy settings in any case, SSL_CERT_FILE, SSL_CERT_DIR,
// NODE_EXTRA_CA_CERTS and the XDG directories other than XDG_DATA_HOME), then
// sets XDG_DATA_HOME to cfg.DataHome, XDG_STATE_HOME to cfg.StateHome and
// OPENCODE_CONFIG_DIR to cfg.ConfigDir (each when not empty),
// OPENCODE_SERVER_PASSWORD to
// cfg.Password (when not empty) and TMPDIR to StateDir/tmp, then adds extra,
// the account's own env table, in sorted order. extra may override base
// variables and TMPDIR, but never XDG_DATA_HOME, XDG_STATE_HOME,
// OPENCODE_CONFIG_DIR, OPENCODE_SERVER_PASSWORD or
// OPENCODE_SERVER_USERNAME: those make the account what it is.
func BuildEnv(base []string, cfg Config, extra map[string]string) []string {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if ok && keepBaseVar(k) {
			set(k, v)
		}
	}
	set("XDG_DATA_HOME", cfg.DataHome)
	if cfg.StateHome != "" {
		set("XDG_STATE_HOME", cfg.StateHome)
	}
	if cfg.ConfigDir != "" {
		set("OPENCODE_CONFIG_DIR", cfg.ConfigDir)
	}
	if cfg.Password != "" {
		set("OPENCODE_SERVER_PASSWORD", cfg.Password)
	}
	set("TMPDIR", filepath.Join(cfg.StateDir, "tmp"))
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "" || strings.Contains(k, "=") || slices.Contains(protectedVars, k) {
			continue
		}
		set(k, extra[k])
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env
}

// overlayEnv returns env with the account's invariants forced to cfg's
// values whatever env held: XDG_DATA_HOME, XDG_STATE_HOME (env's when cfg
// has none), OPENCODE_CONFIG_DIR (none when cfg has none), OPENCODE_SERVER_PASSWORD, no
// OPENCODE_SERVER_USERNAME (health checks use OpenCode's default), and a
// TMPDIR of the account's own when env names none.
func overlayEnv(env []string, cfg Config) []string {
	out := make([]string, 0, len(env)+3)
	hasTmp := false
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "XDG_DATA_HOME", "OPENCODE_CONFIG_DIR", "OPENCODE_SERVER_PASSWORD", "OPENCODE_PASSWORD", "OPENCODE_SERVER_USERNAME":
			continue
		case "XDG_STATE_HOME":
			if cfg.StateHome != "" {
				continue
			}
		case "TMPDIR":
			hasTmp = true
		}
		out = append(out, kv)
	}
	out = append(out, "XDG_DATA_HOME="+cfg.DataHome)
	if cfg.StateHome != "" {
		out = append(out, "XDG_STATE_HOME="+cfg.StateHome)
	}
	if cfg.ConfigDir != "" {
		out = append(out, "OPENCODE_CONFIG_DIR="+cfg.ConfigDir)
	}
	if cfg.Password != "" {
		out = append(out, "OPENCODE_SERVER_PASSWORD="+cfg.Password)
	}
	if !hasTmp {
		out = append(out, "TMPDIR="+filepath.Join(cfg.StateDir, "tmp"))
	}
	return out
}
