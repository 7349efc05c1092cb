package hook

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/oca-sh/oca/hook/shim"
)

// StateVar is the exported variable in which oca records, in the shell's own
// environment, what it changed and what was there before. It travels to
// subshells, tmux panes and editor terminals, so that each of them can put
// itself right for its own directory.
const StateVar = "__OCA_STATE"

// ExecVar is the record that oca leaves in the environment of a command it
// runs for an account (oca exec, OpenCode started by oca's shim): the same
// encoding as StateVar, so that an oca started below it (the shim, run by a
// script or by OpenCode's own tools) finds its directories from the
// environment as it was before oca. The hook never acts on it.
const ExecVar = "__OCA_EXEC"

// Managed are the variables oca sets inside a bound project, in the order it
// sets them.
func Managed() []string {
	return []string{"XDG_DATA_HOME", "XDG_STATE_HOME", "OPENCODE_ACCOUNT", "OPENCODE_PORT", "OPENCODE_SERVER_URL", "OPENCODE_SERVER_PASSWORD", "OPENCODE_CONFIG_DIR"}
}

const (
	stateVersion = 1
	maxStateLen  = 16 << 10
)

// State is what __OCA_STATE holds. Applied values are kept as short hashes
// only, so the record never carries the server password.
type State struct {
	V       int                `json:"v"`
	Account string             `json:"account"`
	File    string             `json:"file"`          // the project file that chose the account
	PID     int                `json:"pid,omitempty"` // the shell the record was made for
	Prev    map[string]*string `json:"prev"`          // the value before oca, nil where unset
	Applied map[string]string  `json:"applied"`
	// Shim is the directory oca put first on PATH ("" for none). PATH is
	// not restored to a previous value, as the variables above are: only
	// this entry is taken off, so what the user added inside stays.
	Shim string `json:"shim,omitempty"`
}

// EncodeState renders s for the environment.
func EncodeState(s *State) string {
	return base64.RawURLEncoding.EncodeToString(marshalState(s))
}

// DecodeState parses __OCA_STATE. Anything it does not recognise, corrupt
// or from another version, is an error: the caller then treats the shell as
// unmanaged rather than act on a record it cannot trust.
func DecodeState(v string) (*State, error) {
	if len(v) > maxStateLen {
		return nil, errors.New("too long")
	}
	data, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("not oca's encoding: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("not oca's record: %w", err)
	}
	if s.V != stateVersion {
		return nil, fmt.Errorf("version %d, want %d", s.V, stateVersion)
	}
	for k := range s.Applied {
		if !slices.Contains(Managed(), k) {
			return nil, fmt.Errorf("names %q, which oca does not manage", k)
		}
	}
	if s.Shim != "" && !shim.Valid(s.Shim) {
		return nil, fmt.Errorf("names %q as its PATH entry, which is not oca's", s.Shim)
	}
	for k := range s.Prev {
		if _, ok := s.Applied[k]; !ok {
			return nil, fmt.Errorf("keeps a previous value of %q but applied none", k)
		}
	}
	return &s, nil
}

// fingerprint is how an applied value is remembered.
func fingerprint(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:12])
}

// ours reports whether the variable still holds the value oca gave it.
func (s *State) ours(env Env, name string) bool {
	want, ok := s.Applied[name]
	if !ok {
		return false
	}
	v, set := env[name]
	return set && fingerprint(v) == want
}

// Env is an environment as a map.
type Env map[string]string

// Flag reads one of oca's switches (OCA_ATTACH, OCA_AUTOSTART,
// OCA_QUIET) the one way: unset or empty is def; 0, false, no and off
// (any case) are off; anything else is on.
func (e Env) Flag(name string, def bool) bool {
	switch strings.ToLower(e[name]) {
	case "":
		return def
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// EnvFrom parses KEY=VALUE entries; later entries win.
func EnvFrom(environ []string) Env {
	env := make(Env, len(environ))
	for _, kv := range environ {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return env
}

// Before is env as it was before oca changed it, by the record in env
// itself; a record oca cannot read counts as none (Export is what reports
// it).
func Before(env Env) Env {
	var st *State
	if raw := env[StateVar]; raw != "" {
		st, _ = DecodeState(raw)
	}
	out := Original(env, st)
	// Below `oca exec`, what the shell's record gives back may be what oca
	// exec set: its record gives back what was before that.
	if ex := execRecord(env); ex != nil {
		out = Original(out, ex)
	}
	return out
}

// execRecord is the record of ExecVar, nil for none or one oca cannot read.
func execRecord(env Env) *State {
	if raw := env[ExecVar]; raw != "" {
		if st, err := DecodeState(raw); err == nil {
			return st
		}
	}
	return nil
}

// Original returns env as it was before oca changed it: every variable that
// still holds oca's value gets back its previous one. Variables the user
// changed since are theirs and stay. PATH loses oca's entry, and keeps
// whatever else the user did to it.
func Original(env Env, s *State) Env {
	out := make(Env, len(env))
	for k, v := range env {
		out[k] = v
	}
	delete(out, StateVar)
	delete(out, ExecVar)
	if s == nil {
		return out
	}
	if p, ok := out["PATH"]; ok && s.Shim != "" {
		out["PATH"] = shim.Strip(p, s.Shim)
	}
	for name := range s.Applied {
		if !s.ours(env, name) {
			continue
		}
		if p := s.Prev[name]; p != nil {
			out[name] = *p
		} else {
			delete(out, name)
		}
	}
	return out
}
