// Package hook is the per-prompt engine: an environment and a directory in,
// the changes to make to the shell's environment out, as plain data that the
// shells package spells for one shell. It never prints shell code itself and
// is tested without any shell.
package hook

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// Change is one variable to set or unset.
type Change struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	Unset bool   `json:"unset,omitempty"`
}

// Undo is how the shell itself takes one variable back when it leaves the
// project, without running oca: if the variable still holds Applied, it gets
// Prev back (or is unset when Set is false); otherwise the user changed it,
// and it stays.
type Undo struct {
	Name    string `json:"name"`
	Applied string `json:"applied"`
	Set     bool   `json:"set"`
	Prev    string `json:"prev,omitempty"`
}

// Output is the result of one run of the engine.
type Output struct {
	Changes []Change `json:"changes"`
	// File is the nearest project file, "" for none: the shell runs oca
	// again when its own search upward from $PWD finds another.
	File  string  `json:"file"`
	Undo  []Undo  `json:"undo"`
	Watch []Watch `json:"watch"`
	// Shim is the directory oca put first on PATH, "" for none: leaving by
	// itself, the shell takes that entry off PATH.
	Shim     string   `json:"shim,omitempty"`
	Messages []string `json:"-"`       // one line each, for stderr
	Account  string   `json:"account"` // the account bound now, "" for none
	Entered  string   `json:"-"`       // the account just entered, if any
	// Logins are lines about the entered account's logins (an expired OAuth
	// login), said after the line that names the account.
	Logins []string `json:"-"`
	// Replaced names, on entering, a variable of the user's own that the
	// account's value stands in for inside the project (OPENCODE_CONFIG_DIR,
	// which OpenCode reads one of): said with the account line.
	Replaced []string `json:"-"`
	Left     string   `json:"-"` // the account just left, if any

	quote func(string) string // Input.Quote
}

// say adds a message; characters a terminal would act on (from a directory
// name, a project file) are written as escapes.
func (o *Output) say(format string, args ...any) {
	o.Messages = append(o.Messages, "oca: "+shells.Printable(fmt.Sprintf(format, args...)))
}

// quoted quotes s as one word of the user's shell, for a command a message
// suggests.
func (o *Output) quoted(s string) string {
	if o.quote != nil {
		return o.quote(s)
	}
	sh, _ := shells.Get("bash")
	return sh.Quote(s)
}

// Input is what the engine works from.
type Input struct {
	Env Env    // the shell's exported environment
	PWD string // the shell's working directory (logical, as $PWD)

	// PID is the shell's process id (0: not a shell, as for `oca exec`).
	PID int

	// Self is the oca binary. When set, a project whose account attaches
	// (attach = true, and OCA_ATTACH is not 0) gets oca's shim directory
	// first on PATH, holding `opencode`, a link to Self.
	Self string

	// Now is the time logins are judged at (nil: the clock).
	Now func() time.Time

	// OnEnter, when set, runs when the shell PID enters account a, or is a
	// new shell (a subshell, a tmux pane) that inherited it; OnLeave when
	// it leaves one. They are how servers learn who uses them. Their errors
	// become messages, never failures.
	OnEnter func(dirs account.Dirs, a *account.Account, f *projectfile.File, pid int) error
	OnLeave func(dirs account.Dirs, name string, pid int) error

	// Quote quotes a word for the shell that asks, for the commands
	// messages suggest (nil: bash's quoting).
	Quote func(string) string
}

// Export computes what the shell must change for in.PWD.
func Export(in Input) (*Output, error) {
	out := &Output{quote: in.Quote}
	var st *State
	if raw := in.Env[StateVar]; raw != "" {
		s, err := DecodeState(raw)
		if err != nil {
			out.say("ignoring a %s it cannot read (%v): leaving your variables as they are", StateVar, err)
		} else {
			st = s
		}
	}
	now := in.Now
	if now == nil {
		now = time.Now
	}
	// oca's directories come from the environment before oca: by the
	// shell's record, or else by the one `oca exec` left.
	orig := Before(in.Env)
	dirs, err := account.DirsFrom(func(k string) string { return orig[k] })
	if err != nil {
		return nil, err
	}
	stamps := stamper{dir: dirs.StampDir()}

	path := projectfile.Find(in.PWD)
	out.File = path
	if path == "" {
		apply(in.Env, st, nil, out)
		leave(in, dirs, out)
		return out, nil
	}
	if err := account.EnsurePrivateDir(dirs.State); err != nil {
		return nil, err
	}
	w, err := stamps.watch(path)
	if err != nil {
		return nil, err
	}
	out.Watch = append(out.Watch, w)
	aw, err := stamps.watch(dirs.AccountsFile())
	if err != nil {
		return nil, err
	}
	out.Watch = append(out.Watch, aw)

	b, keep, err := bind(dirs, path, out)
	if err != nil {
		return nil, err
	}
	entering := false
	if b != nil && !keep {
		entering = st == nil || st.Account != b.account.Name || !st.ours(in.Env, "XDG_DATA_HOME")
		// A config dir that is a link, a file, unreadable, or one that
		// someone else could change: nothing of the account applies until
		// it is mended. Entering makes it when it is absent.
		check := account.CheckConfigDir
		if entering {
			check = account.EnsureConfigDir
		}
		if err := check(b.account); err != nil {
			var unsafe *account.UnsafeConfigDirError
			if errors.As(err, &unsafe) {
				out.say("%s", unsafe.Message(out.quoted)) // its mend, for this shell
			} else {
				out.say("%v", err)
			}
			keep = true
		}
	}
	if keep {
		// Something is broken: the message says what; the environment stays
		// exactly as it is until the file is mended.
		out.Account = ""
		if st != nil {
			out.Account = st.Account
			out.Undo = undoFrom(st, in.Env)
			out.Shim = st.Shim
		}
		return out, nil
	}
	if b == nil {
		apply(in.Env, st, nil, out)
		leave(in, dirs, out)
		return out, nil
	}
	// The account's homes: made and linked on entering, and brought up to
	// date when another program made something in the data home (the
	// shell watches it, below: direnv's first allow inside a project goes
	// there, and its hook, which runs before oca's, must find the record in
	// the user's own data home on coming back). Only then: each home costs
	// a readdir of it and of the user's own. The state home is not
	// watched: less replaces its history file there at each exit, and each
	// would start oca at the next prompt.
	if entering || !stamps.current(b.account.DataHome) {
		stranded, err := account.PrepareHomes(dirs, b.account)
		if err != nil {
			out.say("%v", err)
		}
		for _, s := range stranded {
			out.say("%s", s.Message(out.quoted))
		}
	}
	if w, err := stamps.watch(b.account.DataHome); err == nil {
		out.Watch = append(out.Watch, w)
	}
	if b.pw, err = account.Password(dirs, b.account.Name); err != nil {
		out.say("%v", err)
	}
	b.pid = in.PID
	if in.Self != "" && Attaches(in.Env, b.account) {
		dir := shim.Dir(dirs.State)
		if err := shim.Ensure(dir, in.Self); err != nil {
			out.say("%v", err)
		} else {
			b.shim = dir
		}
	}
	apply(in.Env, st, b, out)
	leave(in, dirs, out)
	if entering {
		out.Entered = b.account.Name
		// Entering is the one time the hook reads auth.json: a prompt that
		// changes nothing never gets here.
		for _, l := range account.ExpiredLogins(b.account, now()) {
			out.Logins = append(out.Logins, "oca: "+shells.Printable(l))
		}
		if own := orig["OPENCODE_CONFIG_DIR"]; own != "" && b.account.ConfigDir != "" && filepath.Clean(own) != b.account.ConfigDir {
			out.Replaced = append(out.Replaced, "oca: "+shells.Printable(fmt.Sprintf(
				"account %s: OPENCODE_CONFIG_DIR is its config dir here, in place of yours (%s), which is back when you leave; OpenCode reads one, and the account's server never sees yours",
				b.account.Name, own)))
		}
	}
	if (entering || st.PID != in.PID || st.File != b.path) && in.OnEnter != nil {
		if err := in.OnEnter(dirs, b.account, b.file, in.PID); err != nil {
			out.say("%v", err)
		}
	}
	return out, nil
}

// undoFrom is the undo list of the variables that still hold oca's values.
func undoFrom(st *State, env Env) []Undo {
	var undo []Undo
	for _, name := range Managed() {
		if !st.ours(env, name) {
			continue
		}
		u := Undo{Name: name, Applied: env[name], Set: st.Prev[name] != nil}
		if u.Set {
			u.Prev = *st.Prev[name]
		}
		undo = append(undo, u)
	}
	return undo
}

// leave tells OnLeave about the account the shell just left.
func leave(in Input, dirs account.Dirs, out *Output) {
	if out.Left == "" || in.OnLeave == nil {
		return
	}
	if err := in.OnLeave(dirs, out.Left, in.PID); err != nil {
		out.say("%v", err)
	}
}

// binding is a project file that applies, and its account.
type binding struct {
	account *account.Account
	file    *projectfile.File
	path    string
	pw      string
	pid     int
	shim    string // the shim directory to put first on PATH, "" for none
}

func (b *binding) values() []Change {
	a := b.account
	vals := []Change{
		{Name: "XDG_DATA_HOME", Value: a.DataHome},
		{Name: "XDG_STATE_HOME", Value: a.StateHome},
		{Name: "OPENCODE_ACCOUNT", Value: a.Name},
		{Name: "OPENCODE_PORT", Value: strconv.Itoa(a.Port)},
		{Name: "OPENCODE_SERVER_URL", Value: a.URL()},
	}
	if b.pw != "" {
		vals = append(vals, Change{Name: "OPENCODE_SERVER_PASSWORD", Value: b.pw})
	}
	if a.ConfigDir != "" {
		vals = append(vals, Change{Name: "OPENCODE_CONFIG_DIR", Value: a.ConfigDir})
	}
	return vals
}

// bind decides whether the project file at path applies. keep is true when
// something is broken and the shell must stay as it is. The decision is
// projectfile's Trust.Judge, fast path and all: nothing in the shell's
// __OCA_STATE counts for it. Its one error is projectfile.ErrNoTOML, in a
// build that parses no TOML where a file must be parsed: the caller hands
// the run to oca; every other problem is a message.
func bind(dirs account.Dirs, path string, out *Output) (b *binding, keep bool, err error) {
	reg, err := account.Load(dirs)
	if errors.Is(err, projectfile.ErrNoTOML) {
		return nil, true, err
	}
	if err != nil {
		out.say("%v", err)
		return nil, true, nil
	}
	trust := projectfile.Trust{Dir: dirs.TrustDir()}
	out.Watch = append(out.Watch, presence(trust.DenyRecord(path)))
	j, err := trust.Judge(path, reg.TrustedPaths)
	if errors.Is(err, projectfile.ErrNoTOML) {
		return nil, true, err
	}
	if err != nil {
		var nf *account.NotFoundError
		if errors.As(err, &nf) {
			out.say("%s names account %q, which you do not have; create it with: oca account add %s", path, nf.Name, nf.Name)
			return nil, false, nil
		}
		out.say("%v", err)
		return nil, true, nil
	}
	a, err := reg.Get(j.File.Account)
	if err != nil {
		out.say("%v", err)
		return nil, true, nil
	}
	switch j.Verdict {
	case projectfile.Denied:
		out.say("%s is denied; to use account %s here, run: oca allow %s", path, a.Name, out.quoted(filepath.Dir(path)))
		return nil, false, nil
	case projectfile.Untrusted:
		out.Watch = append(out.Watch, presence(j.Allow))
		if j.LinkAllowedBefore {
			out.say("%s leads to %s, which an earlier oca allowed wherever it was found; links are now allowed on their own: if you trust this one, run: oca allow %s", path, j.Real, out.quoted(filepath.Dir(path)))
			return nil, false, nil
		}
		out.say("%s wants account %s; if you trust it, run: oca allow %s", path, a.Name, out.quoted(filepath.Dir(path)))
		return nil, false, nil
	case projectfile.Allowed:
		out.Watch = append(out.Watch, presence(j.Allow))
	}
	return &binding{account: a, file: j.File, path: path}, false, nil
}

// apply computes the changes that take the shell from its state st to the
// binding b (nil: no account), and the new __OCA_STATE.
func apply(env Env, st *State, b *binding, out *Output) {
	want := map[string]string{}
	var next *State
	if b != nil {
		out.Account = b.account.Name
		next = &State{V: stateVersion, Account: b.account.Name, File: b.path, PID: b.pid,
			Prev: map[string]*string{}, Applied: map[string]string{}}
		for _, c := range b.values() {
			want[c.Name] = c.Value
		}
	}
	if st != nil && (b == nil || st.Account != b.account.Name) {
		out.Left = st.Account
	}
	for _, name := range Managed() {
		cur, set := env[name]
		ours := st != nil && st.ours(env, name)
		if v, ok := want[name]; ok {
			switch {
			case ours:
				next.Prev[name] = st.Prev[name]
			case set:
				next.Prev[name] = &cur
			default:
				next.Prev[name] = nil
			}
			next.Applied[name] = fingerprint(v)
			u := Undo{Name: name, Applied: v, Set: next.Prev[name] != nil}
			if u.Set {
				u.Prev = *next.Prev[name]
			}
			out.Undo = append(out.Undo, u)
			if !set || cur != v {
				out.Changes = append(out.Changes, Change{Name: name, Value: v})
			}
			continue
		}
		if !ours {
			continue
		}
		if p := st.Prev[name]; p != nil {
			if *p != cur {
				out.Changes = append(out.Changes, Change{Name: name, Value: *p})
			}
		} else {
			out.Changes = append(out.Changes, Change{Name: name, Unset: true})
		}
	}
	applyPath(env, st, b, next, out)
	cur, set := env[StateVar]
	switch {
	case next != nil:
		if enc := EncodeState(next); enc != cur {
			out.Changes = append(out.Changes, Change{Name: StateVar, Value: enc})
		}
	case set:
		out.Changes = append(out.Changes, Change{Name: StateVar, Unset: true})
	}
}

// applyPath puts the binding's shim directory first on PATH, or takes the
// one of the old record off. Only that entry moves: the rest of PATH is the
// user's, whatever they did to it inside the project. A shim directory that
// is first on PATH before oca puts it there is the user's (`oca shims` in a
// login profile): it stays, and oca records nothing to take off.
func applyPath(env Env, st *State, b *binding, next *State, out *Output) {
	cur, set := env["PATH"]
	if !set {
		return
	}
	want := cur
	if st != nil {
		want = shim.Strip(want, st.Shim)
	}
	if b != nil && b.shim != "" && strings.HasPrefix(want, b.shim+":") {
		// The user's own entry, first already (a login profile's `oca
		// shims`): it is theirs, and leaving leaves it.
	} else if b != nil && b.shim != "" {
		if p := shim.Prepend(want, b.shim); p != "" {
			want = p
			next.Shim, out.Shim = b.shim, b.shim
		}
	}
	if want != cur {
		out.Changes = append(out.Changes, Change{Name: "PATH", Value: want})
	}
}

// Attaches tells whether `opencode` goes to a's server: the account's
// attach key, unless OCA_ATTACH is off in env (Env.Flag).
func Attaches(env Env, a *account.Account) bool {
	return a.Attach && env.Flag("OCA_ATTACH", true)
}

// Environ is env as it was before oca changed it, with the account's own
// env table and its variables on top: the environment of `oca exec` and of
// the commands that run OpenCode for an account.
//
// It holds ExecVar, the record of what oca changed, so that an oca started
// below (the shim, another oca exec) finds the user's own directories.
func Environ(env Env, a *account.Account, password string) Env {
	base := Before(env)
	out := maps.Clone(base)
	for k, v := range a.Env {
		out[k] = v
	}
	rec := &State{V: stateVersion, Account: a.Name, Prev: map[string]*string{}, Applied: map[string]string{}}
	for _, c := range (&binding{account: a, pw: password}).values() {
		if prev, ok := base[c.Name]; ok {
			rec.Prev[c.Name] = &prev
		} else {
			rec.Prev[c.Name] = nil
		}
		rec.Applied[c.Name] = fingerprint(c.Value)
		out[c.Name] = c.Value
	}
	out[ExecVar] = EncodeState(rec)
	return out
}
