package account

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/oca-sh/oca/projectfile"
)

// Port range rules: ports are allocated from FirstPort up and stay below the
// kernel's ephemeral range, so an outgoing connection never takes one.
const (
	FirstPort       = 10001
	LastAllocPort   = 32767
	MinPort         = 1024
	MaxPort         = 65535
	DefaultIdle     = time.Hour
	maxAccountsSize = 1 << 20
)

// Account is one OpenCode account.
type Account struct {
	Name         string
	Port         int
	DataHome     string            // absolute
	IdleTimeout  time.Duration     // 0: never stop for idleness
	TrustedPaths []string          // absolute
	Env          map[string]string // extra variables for the account's server and exec
	Systemd      bool              // its server runs as the systemd user unit oca@NAME
	Attach       bool              // `opencode` in its projects attaches to its server (attach = false: the plain OpenCode)

	raw accountTOML // as written, so that a save keeps "~/" and durations as the user wrote them
}

// URL is the account's server address.
func (a *Account) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", a.Port) }

// Registry is the parsed accounts file.
type Registry struct {
	Path     string
	Opencode string // the opencode binary, "" for the one on PATH
	Accounts map[string]*Account
	dirs     Dirs
}

type fileTOML struct {
	Opencode string                 `toml:"opencode,omitempty"`
	Accounts map[string]accountTOML `toml:"accounts"`
}

type accountTOML struct {
	Port         int               `toml:"port"`
	DataHome     string            `toml:"data_home"`
	IdleTimeout  string            `toml:"idle_timeout,omitempty"`
	TrustedPaths []string          `toml:"trusted_paths,omitempty"`
	Env          map[string]string `toml:"env,omitempty"`
	Systemd      bool              `toml:"systemd,omitempty"`
	Attach       *bool             `toml:"attach,omitempty"` // nil: true
}

// Load reads the accounts file. A missing file is an empty registry.
func Load(dirs Dirs) (*Registry, error) {
	r := &Registry{Path: dirs.AccountsFile(), Accounts: map[string]*Account{}, dirs: dirs}
	data, err := readAccounts(r.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if len(data) > maxAccountsSize {
		return nil, &projectfile.Error{Path: r.Path, Msg: "file is larger than 1 MiB"}
	}
	if err := r.parse(data); err != nil {
		return nil, err
	}
	return r, nil
}

// readAccounts reads at most maxAccountsSize+1 bytes of the accounts file,
// and only from a regular file: a FIFO or a link to a device would hang or
// fill memory, at every prompt that runs oca.
func readAccounts(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it changes
	// nothing for a regular file.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	if !fi.Mode().IsRegular() {
		kind := "something else"
		switch t := fi.Mode().Type(); {
		case t&fs.ModeDir != 0:
			kind = "a directory"
		case t&fs.ModeNamedPipe != 0:
			kind = "a FIFO"
		case t&(fs.ModeDevice|fs.ModeCharDevice) != 0:
			kind = "a device"
		case t&fs.ModeSocket != 0:
			kind = "a socket"
		}
		return nil, &projectfile.Error{Path: path, Msg: "not a regular file but " + kind}
	}
	// The file says where credentials live: one that someone else could
	// have written is not to be followed.
	for _, c := range []struct {
		path string
		fi   fs.FileInfo
	}{{path, fi}, {filepath.Dir(path), nil}} {
		if c.fi == nil {
			if c.fi, err = os.Stat(c.path); err != nil {
				return nil, fmt.Errorf("reading accounts: %w", err)
			}
		}
		if err := private(c.path, c.fi); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxAccountsSize+1)); err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	return buf.Bytes(), nil
}

func (r *Registry) parse(data []byte) error {
	var f fileTOML
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return projectfile.DecodeError(r.Path, data, err)
	}
	if err := projectfile.Unknown(r.Path, data, md, []string{"accounts.*.env"}); err != nil {
		return err
	}
	bad := func(msg string, key ...string) error {
		return &projectfile.Error{Path: r.Path, Line: projectfile.KeyLine(data, key...), Key: toml.Key(key).String(), Msg: msg}
	}
	if f.Opencode != "" {
		p, err := r.dirs.Expand(f.Opencode)
		if err != nil {
			return bad(err.Error(), "opencode")
		}
		r.Opencode = p
	}
	names := make([]string, 0, len(f.Accounts))
	for name := range f.Accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	ports := map[int]string{}
	homes := map[string]string{}
	for _, name := range names {
		raw := f.Accounts[name]
		if err := projectfile.CheckAccountName(name); err != nil {
			return bad(err.Error(), "accounts", name)
		}
		a := &Account{Name: name, Port: raw.Port, IdleTimeout: DefaultIdle, Env: raw.Env, Systemd: raw.Systemd, Attach: raw.Attach == nil || *raw.Attach, raw: raw}
		if raw.Port < MinPort || raw.Port > MaxPort {
			return bad(fmt.Sprintf("port %d is outside %d-%d", raw.Port, MinPort, MaxPort), "accounts", name, "port")
		}
		if other, dup := ports[raw.Port]; dup {
			return bad(fmt.Sprintf("port %d is also account %s's", raw.Port, other), "accounts", name, "port")
		}
		ports[raw.Port] = name
		home := raw.DataHome
		if home == "" {
			home = r.dirs.DefaultDataHome(name)
		}
		if a.DataHome, err = r.dirs.Expand(home); err != nil {
			return bad(err.Error(), "accounts", name, "data_home")
		}
		if a.DataHome == r.dirs.Data {
			return bad("data_home is your own XDG_DATA_HOME; an account needs a directory of its own", "accounts", name, "data_home")
		}
		if other, dup := homes[a.DataHome]; dup {
			return bad(fmt.Sprintf("data_home is also account %s's", other), "accounts", name, "data_home")
		}
		homes[a.DataHome] = name
		if raw.IdleTimeout != "" {
			d, err := parseIdle(raw.IdleTimeout)
			if err != nil {
				return bad(err.Error(), "accounts", name, "idle_timeout")
			}
			a.IdleTimeout = d
		}
		for _, tp := range raw.TrustedPaths {
			p, err := r.dirs.Expand(tp)
			if err != nil {
				return bad(err.Error(), "accounts", name, "trusted_paths")
			}
			a.TrustedPaths = append(a.TrustedPaths, p)
		}
		for k := range raw.Env {
			if !validEnvName(k) {
				return bad(fmt.Sprintf("%q is not a variable name", k), "accounts", name, "env")
			}
		}
		r.Accounts[name] = a
	}
	return nil
}

func parseIdle(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like \"30m\" or \"1h\" (\"0\" = never)", s)
	}
	return d, nil
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Names lists the accounts in order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.Accounts))
	for n := range r.Accounts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the named account or an error that says how to create it.
func (r *Registry) Get(name string) (*Account, error) {
	if a, ok := r.Accounts[name]; ok {
		return a, nil
	}
	if err := projectfile.CheckAccountName(name); err != nil {
		return nil, err
	}
	return nil, &NotFoundError{Name: name}
}

// NotFoundError is an account name that the registry does not have.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no account %q (create it with: oca account add %s)", e.Name, e.Name)
}

// encode renders the registry as TOML, one [accounts.NAME] table each, as a
// person would write it.
func (r *Registry) encode() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# OpenCode accounts for oca. Edit freely; `oca account` rewrites this file.\n")
	enc := func(v any) error {
		e := toml.NewEncoder(&buf)
		e.Indent = ""
		if err := e.Encode(v); err != nil {
			return fmt.Errorf("encoding accounts: %w", err)
		}
		return nil
	}
	if r.Opencode != "" {
		buf.WriteString("\n")
		if err := enc(map[string]string{"opencode": r.dirs.Abbrev(r.Opencode)}); err != nil {
			return nil, err
		}
	}
	for _, name := range r.Names() {
		raw := r.Accounts[name].raw
		env := raw.Env
		raw.Env = nil
		key := tableKey(name)
		fmt.Fprintf(&buf, "\n[accounts.%s]\n", key)
		if err := enc(raw); err != nil {
			return nil, err
		}
		if len(env) > 0 {
			fmt.Fprintf(&buf, "\n[accounts.%s.env]\n", key)
			if err := enc(env); err != nil {
				return nil, err
			}
		}
	}
	return buf.Bytes(), nil
}

// tableKey writes an account name as a TOML key: bare where it may be,
// quoted where it has a dot.
func tableKey(name string) string {
	if strings.Contains(name, ".") {
		return `"` + name + `"`
	}
	return name
}

// Update runs change on the registry under an exclusive lock and saves the
// result atomically, so two `oca account` commands at once lose nothing.
func Update(dirs Dirs, change func(*Registry) error) error {
	if err := EnsurePrivateDir(dirs.Config); err != nil {
		return err
	}
	unlock, err := lockFile(dirs.AccountsFile() + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	r, err := Load(dirs)
	if err != nil {
		return err
	}
	if err := change(r); err != nil {
		return err
	}
	data, err := r.encode()
	if err != nil {
		return err
	}
	return WriteFileAtomic(r.Path, data, 0o600)
}

// AddOptions are the choices of `oca account add`.
type AddOptions struct {
	Port        int    // 0: allocate
	DataHome    string // "": the default
	IdleTimeout string // "": the default (1h); "0": never
}

// Add creates an account in the registry (not on disk: see Prepare).
func (r *Registry) Add(name string, opt AddOptions) (*Account, error) {
	if err := projectfile.CheckAccountName(name); err != nil {
		return nil, err
	}
	if _, ok := r.Accounts[name]; ok {
		return nil, fmt.Errorf("account %q exists already", name)
	}
	raw := accountTOML{Port: opt.Port}
	if opt.Port == 0 {
		raw.Port = r.freePort()
		if raw.Port == 0 {
			return nil, errors.New("no free port left between 10001 and 32767")
		}
	}
	if raw.Port < MinPort || raw.Port > MaxPort {
		return nil, fmt.Errorf("port %d is outside %d-%d", raw.Port, MinPort, MaxPort)
	}
	for _, a := range r.Accounts {
		if a.Port == raw.Port {
			return nil, fmt.Errorf("port %d is account %s's already", raw.Port, a.Name)
		}
	}
	home := r.dirs.DefaultDataHome(name)
	if opt.DataHome != "" {
		p, err := r.dirs.Expand(opt.DataHome)
		if err != nil {
			return nil, err
		}
		home = p
	}
	if home == r.dirs.Data {
		return nil, errors.New("data home is your own XDG_DATA_HOME; an account needs a directory of its own")
	}
	for _, a := range r.Accounts {
		if a.DataHome == home {
			return nil, fmt.Errorf("data home %s is account %s's already", home, a.Name)
		}
	}
	raw.DataHome = r.dirs.Abbrev(home)
	a := &Account{Name: name, Port: raw.Port, DataHome: home, IdleTimeout: DefaultIdle, Attach: true, raw: raw}
	if opt.IdleTimeout != "" {
		d, err := parseIdle(opt.IdleTimeout)
		if err != nil {
			return nil, fmt.Errorf("idle timeout: %w", err)
		}
		a.IdleTimeout, a.raw.IdleTimeout = d, opt.IdleTimeout
	}
	r.Accounts[name] = a
	return a, nil
}

// freePort is the lowest port from FirstPort up that no account has and that
// nothing on this machine listens on now.
func (r *Registry) freePort() int {
	used := map[int]bool{}
	for _, a := range r.Accounts {
		used[a.Port] = true
	}
	for p := FirstPort; p <= LastAllocPort; p++ {
		if !used[p] && portFree(p) {
			return p
		}
	}
	return 0
}

// Remove drops the account from the registry. Its data home stays.
func (r *Registry) Remove(name string) (*Account, error) {
	a, err := r.Get(name)
	if err != nil {
		return nil, err
	}
	delete(r.Accounts, name)
	return a, nil
}

// SetTrustedPaths replaces an account's trusted_paths.
func (r *Registry) SetTrustedPaths(name string, paths []string) error {
	a, err := r.Get(name)
	if err != nil {
		return err
	}
	a.TrustedPaths = a.TrustedPaths[:0]
	a.raw.TrustedPaths = nil
	for _, p := range paths {
		abs, err := r.dirs.Expand(p)
		if err != nil {
			return err
		}
		if !slices.Contains(a.TrustedPaths, abs) {
			a.TrustedPaths = append(a.TrustedPaths, abs)
			a.raw.TrustedPaths = append(a.raw.TrustedPaths, r.dirs.Abbrev(abs))
		}
	}
	return nil
}

// SetSystemd marks whether the account's server runs under systemd.
func (r *Registry) SetSystemd(name string, on bool) error {
	a, err := r.Get(name)
	if err != nil {
		return err
	}
	a.Systemd, a.raw.Systemd = on, on
	return nil
}

// Dirs returns the directories the registry was loaded with.
func (r *Registry) Dirs() Dirs { return r.dirs }
