package account

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/filelock"
	"github.com/oca-sh/oca/internal/regularfile"
)

// Port range rules: ports are allocated from FirstPort up and stay below the
// kernel's ephemeral range, so an outgoing connection never takes one.
const (
	FirstPort     = 10001
	LastAllocPort = 32767
	MinPort       = 1024
	MaxPort       = 65535
	DefaultIdle   = time.Hour
	// DefaultStartTimeout is how long a server may take to become ready:
	// generous, as a loaded machine (load 20 on 2 cores) took 36 s.
	DefaultStartTimeout = 2 * time.Minute
	maxAccountsSize     = 1 << 20
)

// Account is one OpenCode account.
type Account struct {
	Name         string
	Port         int
	DataHome     string            // absolute: the account's XDG_DATA_HOME
	StateHome    string            // absolute: the account's XDG_STATE_HOME
	ConfigDir    string            // absolute: the account's OpenCode config layer (OPENCODE_CONFIG_DIR)
	IdleTimeout  time.Duration     // 0: never stop for idleness
	StartTimeout time.Duration     // how long its server may take to become ready (every wait for it, and its supervisor's)
	TrustedPaths []string          // absolute
	Env          map[string]string // extra variables for the account's server and exec
	Systemd      bool              // its server runs as the systemd user unit oca@NAME
	External     bool              // its server runs elsewhere (oca compose): oca never starts or stops one
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

	data   []byte                 // the file as read: edits keep what they need not change
	loaded map[string]accountTOML // its accounts as read
	undo   []func()               // what Create made, undone when the file cannot be saved
}

type fileTOML struct {
	Opencode string                 `toml:"opencode,omitempty"`
	Accounts map[string]accountTOML `toml:"accounts"`
}

type accountTOML struct {
	Port         int               `toml:"port"`
	DataHome     string            `toml:"data_home"`
	StateHome    string            `toml:"state_home,omitempty"` // "": the default
	ConfigDir    string            `toml:"config_dir,omitempty"`
	IdleTimeout  string            `toml:"idle_timeout,omitempty"`
	StartTimeout any               `toml:"start_timeout,omitempty"` // seconds (120) or a duration ("2m")
	TrustedPaths []string          `toml:"trusted_paths,omitempty"`
	Env          map[string]string `toml:"env,omitempty"`
	Systemd      bool              `toml:"systemd,omitempty"`
	External     bool              `toml:"external,omitempty"`
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
	if err := r.parse(data); err != nil {
		return nil, err
	}
	return r, nil
}

// readAccounts reads at most maxAccountsSize+1 bytes of the accounts file,
// and only from a regular file: a FIFO or a link to a device would hang or
// fill memory, at every prompt that runs oca.
func readAccounts(path string) ([]byte, error) {
	data, fi, err := regularfile.Read(path, maxAccountsSize, regularfile.FollowLinks)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case regularfile.Refused(err):
		return nil, &projectfile.Error{Path: path, Err: err}
	case err != nil:
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	// The file says where credentials live: one that someone else could
	// have written is not to be followed.
	if err := private(path, fi); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	dfi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	if err := private(dir, dfi); err != nil {
		return nil, err
	}
	return data, nil
}

// envKeys are the accounts file's free-form keys: an account's env.
const envKeys = "accounts.*.env"

func (r *Registry) parse(data []byte) error {
	f, err := r.decode(data)
	if err != nil {
		return err
	}
	bad := func(e *fieldError) error {
		if !projectfile.HasTOML {
			// Its line is the parser's to find: oca says it.
			return fmt.Errorf("%s: %s: %w", r.Path, e.msg, projectfile.ErrNoTOML)
		}
		return &projectfile.Error{Path: r.Path, Line: projectfile.KeyLine(data, e.key...), Key: projectfile.KeyString(e.key...), Msg: e.msg}
	}
	if f.Opencode != "" {
		p, err := r.dirs.Expand(f.Opencode)
		if err != nil {
			return bad(&fieldError{[]string{"opencode"}, err.Error()})
		}
		r.Opencode = p
	}
	names := make([]string, 0, len(f.Accounts))
	for name := range f.Accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a, ferr := r.account(name, f.Accounts[name], false)
		if ferr != nil {
			return bad(ferr)
		}
		r.Accounts[name] = a
	}
	for i, name := range names {
		if ferr := r.checkAgainstOthers(name, names[:i], false); ferr != nil {
			return bad(ferr)
		}
	}
	r.data = data
	r.loaded = map[string]accountTOML{}
	for name, a := range r.Accounts {
		r.loaded[name] = a.raw
	}
	return nil
}

// fieldError is a bad value of an account: the key and why.
type fieldError struct {
	key []string
	msg string
}

func (e *fieldError) Error() string { return e.msg }

// account checks one account's table on its own, the one check of an
// account whether it was read from the file or is being added (which also
// resolves links: see homeConflict).
func (r *Registry) account(name string, raw accountTOML, resolve bool) (*Account, *fieldError) {
	key := func(k ...string) []string { return append([]string{"accounts", name}, k...) }
	if err := projectfile.CheckAccountName(name); err != nil {
		return nil, &fieldError{key(), err.Error()}
	}
	a := &Account{Name: name, Port: raw.Port, IdleTimeout: DefaultIdle, StartTimeout: DefaultStartTimeout, Env: raw.Env, Systemd: raw.Systemd, External: raw.External, Attach: raw.Attach == nil || *raw.Attach, raw: raw}
	if raw.Systemd && raw.External {
		return nil, &fieldError{key("external"), "an account's server runs under systemd or elsewhere (external), not both"}
	}
	if raw.Port < MinPort || raw.Port > MaxPort {
		return nil, &fieldError{key("port"), fmt.Sprintf("port %d is outside %d-%d", raw.Port, MinPort, MaxPort)}
	}
	var err error
	for _, h := range []struct {
		kind     homeKind
		raw, def string
		dst      *string
	}{
		{dataHome, raw.DataHome, r.dirs.DefaultDataHome(name), &a.DataHome},
		{stateHome, raw.StateHome, r.dirs.DefaultStateHome(name), &a.StateHome},
	} {
		home := h.raw
		if home == "" {
			home = h.def
		}
		if *h.dst, err = r.dirs.Expand(home); err != nil {
			return nil, &fieldError{key(h.kind.key()), err.Error()}
		}
		if msg := r.dirs.homeConflict(h.kind, *h.dst, resolve); msg != "" {
			return nil, &fieldError{key(h.kind.key()), msg}
		}
	}
	// Each home is linked into from the user's real one and purged whole:
	// the account's two must be apart.
	if rel := nesting(a.StateHome, a.DataHome, resolve); rel != "" {
		return nil, &fieldError{key("state_home"), fmt.Sprintf("state home %s %s the account's data home %s: the two need directories apart", a.StateHome, rel, a.DataHome)}
	}
	cdir := raw.ConfigDir
	if cdir == "" {
		cdir = r.dirs.DefaultConfigDir(name)
	}
	if a.ConfigDir, err = r.dirs.Expand(cdir); err != nil {
		return nil, &fieldError{key("config_dir"), err.Error()}
	}
	switch a.ConfigDir {
	case r.dirs.Config, filepath.Dir(r.dirs.Config), filepath.Join(filepath.Dir(r.dirs.Config), "opencode"), r.dirs.Home:
		// oca's own directory, or the global OpenCode config, which every
		// account reads anyway: no layer of the account's own.
		return nil, &fieldError{key("config_dir"), fmt.Sprintf("config_dir %s is not a directory of the account's own", r.dirs.Abbrev(a.ConfigDir))}
	}
	if raw.IdleTimeout != "" {
		d, err := parseIdle(raw.IdleTimeout)
		if err != nil {
			return nil, &fieldError{key("idle_timeout"), err.Error()}
		}
		a.IdleTimeout = d
	}
	if raw.StartTimeout != nil {
		d, err := ParseStartTimeout(raw.StartTimeout)
		if err != nil {
			return nil, &fieldError{key("start_timeout"), err.Error()}
		}
		a.StartTimeout = d
	}
	for _, tp := range raw.TrustedPaths {
		p, err := r.dirs.Expand(tp)
		if err != nil {
			return nil, &fieldError{key("trusted_paths"), err.Error()}
		}
		a.TrustedPaths = append(a.TrustedPaths, p)
	}
	for k := range raw.Env {
		if !shells.ValidName(k) {
			return nil, &fieldError{key("env"), fmt.Sprintf("%q is not a variable name", k)}
		}
	}
	return a, nil
}

// checkAgainstOthers checks what an account may not share with another:
// its port, its config dir, and its data and state homes, which may
// neither be another's home (data or state) nor contain one nor lie inside
// one.
func (r *Registry) checkAgainstOthers(name string, others []string, resolve bool) *fieldError {
	a := r.Accounts[name]
	for _, other := range others {
		o := r.Accounts[other]
		if o.Port == a.Port {
			return &fieldError{[]string{"accounts", name, "port"}, fmt.Sprintf("port %d is also account %s's", a.Port, other)}
		}
		if o.ConfigDir == a.ConfigDir {
			return &fieldError{[]string{"accounts", name, "config_dir"}, fmt.Sprintf("config_dir is also account %s's", other)}
		}
		for _, p := range homePairs(a, o) {
			switch rel := nesting(p.mine, p.theirs, resolve); {
			case rel == "":
			case rel == "is" && p.kind == p.theirKind:
				return &fieldError{[]string{"accounts", name, p.kind.key()}, fmt.Sprintf("%s is also account %s's", p.kind.key(), other)}
			default:
				return &fieldError{[]string{"accounts", name, p.kind.key()}, fmt.Sprintf("%s %s %s account %s's %s (%s): each account needs directories of its own", p.kind, p.mine, rel, other, p.theirKind, p.theirs)}
			}
		}
	}
	return nil
}

// homePair is one of an account's homes against one of another's.
type homePair struct {
	kind, theirKind homeKind
	mine, theirs    string
}

// homePairs are the four pairs of a's homes and o's: none may nest.
func homePairs(a, o *Account) []homePair {
	return []homePair{
		{dataHome, dataHome, a.DataHome, o.DataHome},
		{dataHome, stateHome, a.DataHome, o.StateHome},
		{stateHome, stateHome, a.StateHome, o.StateHome},
		{stateHome, dataHome, a.StateHome, o.DataHome},
	}
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

// ParseStartTimeout reads a start_timeout: a number of seconds (120, or
// "120", as timeout(1) takes it) or a duration ("90s", "2m"), above 0.
func ParseStartTimeout(v any) (time.Duration, error) {
	var d time.Duration
	var err error
	switch v := v.(type) {
	case int64:
		d = time.Duration(v) * time.Second
	case float64:
		d = time.Duration(v * float64(time.Second))
	case string:
		d, err = Seconds(v)
	default:
		err = fmt.Errorf("%v is not a number of seconds (120) or a duration (\"2m\")", v)
	}
	if err == nil && d <= 0 {
		err = fmt.Errorf("%v: a server needs some time to start (say 120, or \"2m\")", v)
	}
	return d, err
}

// Seconds is a duration as a user types it for a timeout: a bare number of
// seconds ("60", "1.5"), as timeout(1) takes it, or a Go duration ("90s",
// "2m").
func Seconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && f >= 0 && f < math.MaxInt64/float64(time.Second) {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a number of seconds (60) or a duration (\"90s\", \"2m\")", s)
	}
	return d, nil
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

// TrustedPaths are account name's trusted paths (Get's error for an
// account the registry does not have): what projectfile.Trust.Judge asks.
func (r *Registry) TrustedPaths(name string) ([]string, error) {
	a, err := r.Get(name)
	if err != nil {
		return nil, err
	}
	return a.TrustedPaths, nil
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
	buf.WriteString(fileHeader)
	if r.Opencode != "" {
		buf.WriteString("\n")
		b, err := projectfile.EncodeTOML(map[string]string{"opencode": r.dirs.Abbrev(r.Opencode)})
		if err != nil {
			return nil, fmt.Errorf("encoding accounts: %w", err)
		}
		buf.Write(b)
	}
	for _, name := range r.Names() {
		tb, err := r.accountTable(name)
		if err != nil {
			return nil, err
		}
		buf.WriteString("\n")
		buf.Write(tb)
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
	unlock, err := filelock.Lock(dirs.AccountsFile() + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	r, err := Load(dirs)
	if err != nil {
		return err
	}
	if err := change(r); err != nil {
		r.rollback()
		return err
	}
	if err := r.save(); err != nil {
		r.rollback()
		return err
	}
	return nil
}

func (r *Registry) save() error {
	data, ok := r.edit(r.data, r.loaded)
	if !ok {
		// A layout the line editor cannot follow: write it anew.
		var err error
		if data, err = r.encode(); err != nil {
			return err
		}
	}
	// The file written is the file the next command reads: check it as
	// that one will.
	check := &Registry{Path: r.Path, Accounts: map[string]*Account{}, dirs: r.dirs}
	if err := check.parse(data); err != nil {
		return fmt.Errorf("not saving %s: %w", r.Path, err)
	}
	return atomicfile.Write(r.Path, data, 0o600)
}

// AddOptions are the choices of `oca account add`.
type AddOptions struct {
	Port        int    // 0: allocate, from FirstPort up
	FirstPort   int    // where allocating starts; 0: FirstPort
	DataHome    string // "": the default, $XDG_DATA_HOME/oca/accounts/NAME
	StateHome   string // "": the default, $XDG_STATE_HOME/oca/homes/NAME
	IdleTimeout string // "": the default (1h); "0": never
	ConfigDir   string // "": the default, $XDG_CONFIG_HOME/oca/accounts/NAME
}

// Add creates an account in the registry (not on disk: see Prepare). It
// is checked as the accounts file is when loaded.
func (r *Registry) Add(name string, opt AddOptions) (*Account, error) {
	if err := projectfile.CheckAccountName(name); err != nil {
		return nil, err
	}
	if _, ok := r.Accounts[name]; ok {
		return nil, fmt.Errorf("account %q exists already", name)
	}
	raw := accountTOML{Port: opt.Port, IdleTimeout: opt.IdleTimeout}
	if opt.Port == 0 {
		first := opt.FirstPort
		if first == 0 {
			first = FirstPort
		}
		if first < MinPort || first > LastAllocPort {
			return nil, fmt.Errorf("cannot allocate ports from %d: allocated ports are between %d and %d", first, MinPort, LastAllocPort)
		}
		raw.Port = r.freePort(first)
		if raw.Port == 0 {
			return nil, fmt.Errorf("no free port left between %d and %d", first, LastAllocPort)
		}
	}
	// Each directory: the one given (expanded), else the default; written
	// abbreviated (~/...).
	for _, d := range []struct {
		to         *string
		given, def string
	}{
		{&raw.DataHome, opt.DataHome, r.dirs.DefaultDataHome(name)},
		{&raw.StateHome, opt.StateHome, r.dirs.DefaultStateHome(name)},
		{&raw.ConfigDir, opt.ConfigDir, r.dirs.DefaultConfigDir(name)},
	} {
		p := d.def
		if d.given != "" {
			var err error
			if p, err = r.dirs.Expand(d.given); err != nil {
				return nil, err
			}
		}
		*d.to = r.dirs.Abbrev(p)
	}
	a, ferr := r.account(name, raw, true)
	if ferr != nil {
		return nil, ferr
	}
	if err := CheckConfigDir(a); err != nil {
		return nil, err
	}
	others := r.Names()
	r.Accounts[name] = a
	if ferr := r.checkAgainstOthers(name, others, true); ferr != nil {
		delete(r.Accounts, name)
		return nil, ferr
	}
	return a, nil
}

// freePort is the lowest port from first up that no account has and that
// nothing on this machine listens on now.
func (r *Registry) freePort(first int) int {
	used := map[int]bool{}
	for _, a := range r.Accounts {
		used[a.Port] = true
	}
	for p := first; p <= LastAllocPort; p++ {
		if !used[p] && portFree(p) {
			return p
		}
	}
	return 0
}

// Remove drops the account from the registry. Its data and state homes
// stay.
func (r *Registry) Remove(name string) (*Account, error) {
	a, err := r.Get(name)
	if err != nil {
		return nil, err
	}
	delete(r.Accounts, name)
	return a, nil
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
