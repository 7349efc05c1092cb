// Package doctor finds what is wrong with a user's oca setup and, where it is
// safe, mends it. Every finding says what is wrong, why it matters, and the
// command that mends it.
package doctor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/internal/safepath"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// Severity orders findings.
type Severity string

const (
	OK    Severity = "ok"
	Warn  Severity = "warning"
	Error Severity = "error"
)

// Finding is one result of a check.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	What     string   `json:"what"`
	Why      string   `json:"why,omitempty"`
	Fix      string   `json:"fix,omitempty"`   // the command that mends it
	Fixed    string   `json:"fixed,omitempty"` // what --fix changed
	mend     func() error
}

// Input is what the checks look at.
type Input struct {
	Env   hook.Env // the environment doctor runs in
	PWD   string
	Shell string // bash, zsh or fish: the user's shell, from $SHELL
	Self  string // the oca binary
	Fix   bool   // mend what is safe to mend
	// Opencode tells which OpenCode the binary at path is (cmd/oca gives
	// it opencode.Detect with oca's cache). nil: not checked.
	Opencode func(path string) (opencode.Version, error)
	// Tested is the OpenCode 1.x version line (e.g. "1.18.") oca is tested with.
	Tested string
	// SystemdEnabled says why systemd cannot run the unit of the account
	// named: no user manager answers, or the unit is not enabled (nil: not
	// checked).
	SystemdEnabled func(account string) error
	// Unit is the unit file oca@.service: its path, its text, and the text
	// `oca systemd install` would write now (nil: not checked).
	Unit func() (path, have, want string, err error)
}

// Run runs every check.
func Run(in Input) []Finding {
	orig := hook.Before(in.Env)
	dirs, err := account.DirsFrom(func(k string) string { return orig[k] })
	if err != nil {
		return []Finding{{Check: "home", Severity: Error, What: err.Error(), Why: "oca keeps its files under your home directory", Fix: "export HOME=/path/to/your/home"}}
	}
	var out []Finding
	out = append(out, checkDirs(dirs)...)
	reg, err := account.Load(dirs)
	if err != nil {
		out = append(out, Finding{Check: "accounts", Severity: Error, What: err.Error(),
			Why: "no account works until the accounts file parses", Fix: "edit " + dirs.AccountsFile()})
		return finish(out, in.Fix)
	}
	out = append(out, checkHook(in, dirs, reg)...)
	out = append(out, checkPath(in, orig)...)
	found, v := checkOpencode(in, reg)
	out = append(out, found...)
	out = append(out, checkEnvKeys(orig)...)
	out = append(out, checkGlobalConfig(dirs)...)
	quote := shells.Quote
	if sh, err := shells.Get(in.Shell); err == nil {
		quote = sh.Quote
	}
	for _, name := range reg.Names() {
		out = append(out, checkAccount(dirs, reg.Accounts[name], quote)...)
		if v.V2() {
			out = append(out, checkLoginsV2(dirs, reg.Accounts[name], v)...)
		} else {
			out = append(out, checkLogins(reg.Accounts[name], time.Now())...)
		}
		server := checkServer(dirs, reg.Accounts[name])
		if sys := checkSystemd(in, reg.Accounts[name]); len(sys) > 0 {
			// Not "ok stopped": what runs it is broken.
			server = append(sys, slices.DeleteFunc(server, func(f Finding) bool { return f.Severity == OK })...)
		}
		out = append(out, server...)
		out = append(out, checkVersion(dirs, reg.Accounts[name], v)...)
	}
	out = append(out, checkUnit(in, reg)...)
	return finish(out, in.Fix)
}

// finish applies the safe fixes when asked, and orders the findings.
func finish(out []Finding, fix bool) []Finding {
	for i := range out {
		f := &out[i]
		if !fix || f.mend == nil || f.Severity == OK {
			continue
		}
		if err := f.mend(); err != nil {
			f.What += fmt.Sprintf(" (--fix failed: %v)", err)
			continue
		}
		f.Fixed = f.Fix
		f.Severity = OK
	}
	rank := map[Severity]int{Error: 0, Warn: 1, OK: 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Severity] < rank[out[j].Severity] })
	return out
}

// Failed reports whether any finding is a warning or an error.
func Failed(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity != OK {
			return true
		}
	}
	return false
}

func checkDirs(dirs account.Dirs) []Finding {
	var out []Finding
	for _, d := range []string{dirs.Config, dirs.State} {
		fi, err := os.Stat(d)
		if err != nil {
			continue // created on first use
		}
		if fi.Mode().Perm()&0o077 != 0 {
			d := d
			out = append(out, Finding{Check: "permissions", Severity: Error,
				What: fmt.Sprintf("%s has mode %04o", d, fi.Mode().Perm()),
				Why:  "it holds trust records, account settings and server passwords: others must not read or change it",
				Fix:  "chmod 700 " + shells.Quote(d), mend: func() error { return os.Chmod(d, 0o700) }})
		}
	}
	return out
}

func checkHook(in Input, dirs account.Dirs, reg *account.Registry) []Finding {
	var out []Finding
	rc, line := rcFile(in.Shell, dirs.Home, in.Env)
	if rc != "" {
		data, _ := os.ReadFile(rc)
		if !strings.Contains(string(data), "hook "+in.Shell) {
			out = append(out, Finding{Check: "hook", Severity: Error,
				What: fmt.Sprintf("%s does not load oca's hook", rc),
				Why:  "without it, entering a project changes nothing",
				Fix:  fmt.Sprintf("echo %s >> %s", shells.Quote(line), shells.Quote(rc))})
		}
	}
	// In a bound project a shell with the hook has oca's record.
	if path := projectfile.Find(in.PWD); path != "" {
		if _, ok := in.Env[hook.StateVar]; !ok {
			out = append(out, Finding{Check: "hook", Severity: Warn,
				What: fmt.Sprintf("this shell has no account although %s names one", path),
				Why:  "the hook is not active in this shell, or the file is not allowed",
				Fix:  "oca allow " + shells.Quote(filepath.Dir(path)) + "; exec $SHELL   # reload the shell once the rc line is in"})
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: "hook", Severity: OK, What: "the hook is installed"})
	}
	return out
}

// checkPath: typing oca must find this oca. The hook line names oca's
// path, so the hook works without it, but every command does not.
func checkPath(in Input, orig hook.Env) []Finding {
	if in.Self == "" {
		return nil
	}
	dir := filepath.Dir(in.Self)
	fix := fmt.Sprintf("export PATH=%s:$PATH   # and the same line in your shell's rc file (./install.sh --rc adds it)", shells.Quote(dir))
	if in.Shell == "fish" {
		fix = fmt.Sprintf("fish_add_path %s", shells.Quote(dir))
	}
	found := lookPath("oca", orig["PATH"])
	switch {
	case found == "":
		return []Finding{{Check: "path", Severity: Warn,
			What: fmt.Sprintf("oca is not on PATH (it is at %s)", in.Self),
			Why:  "typing oca, or a command oca suggests, fails with \"command not found\"", Fix: fix}}
	case !sameFile(found, in.Self):
		return []Finding{{Check: "path", Severity: Warn,
			What: fmt.Sprintf("the oca on PATH is %s, not this one (%s)", found, in.Self),
			Why:  "two versions of oca disagree about files and flags", Fix: fix}}
	}
	return []Finding{{Check: "path", Severity: OK, What: "oca is on PATH at " + found}}
}

// lookPath finds an executable name in the directories of path, or "".
func lookPath(name, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// rcFile is the shell's rc file and the line that loads the hook there.
func rcFile(shell, home string, env hook.Env) (string, string) {
	switch shell {
	case "bash":
		return filepath.Join(home, ".bashrc"), `eval "$(oca hook bash)"`
	case "zsh":
		dir := home
		if z := env["ZDOTDIR"]; z != "" {
			dir = z
		}
		return filepath.Join(dir, ".zshrc"), `eval "$(oca hook zsh)"`
	case "fish":
		cfg := filepath.Join(home, ".config")
		if x := env["XDG_CONFIG_HOME"]; filepath.IsAbs(x) {
			cfg = x
		}
		return filepath.Join(cfg, "fish", "config.fish"), "oca hook fish | source"
	}
	return "", ""
}

// SlowError is an `opencode --version` that took longer than Limit, and
// was stopped: a loaded machine, not an OpenCode that does not run.
type SlowError = opencode.SlowError

// checkOpencode finds the real OpenCode and tells which it is: the
// version, and whether oca runs it (1.x, 2.x, the 2.0 preview). The
// version is the zero Version when it is not known.
func checkOpencode(in Input, reg *account.Registry) ([]Finding, opencode.Version) {
	path := reg.Opencode
	if path == "" {
		// The real one: never oca's own shim, which is first on PATH
		// inside a project.
		p, err := shim.Real("", in.Env["PATH"], in.Self)
		if errors.Is(err, shim.ErrSelf) {
			return []Finding{{Check: "opencode", Severity: Error, What: err.Error(),
				Why: "oca's opencode runs the real OpenCode, and would call itself", Fix: "rm " + strings.Fields(err.Error())[0]}}, opencode.Version{}
		}
		if err != nil {
			return []Finding{{Check: "opencode", Severity: Error, What: "opencode is not on PATH",
				Why: "oca runs OpenCode's servers and commands", Fix: "npm install -g opencode-ai"}}, opencode.Version{}
		}
		path = p
	}
	if in.Opencode == nil {
		return nil, opencode.Version{}
	}
	v, err := in.Opencode(path)
	if slow := (*SlowError)(nil); errors.As(err, &slow) {
		return []Finding{{Check: "opencode", Severity: Warn, What: fmt.Sprintf("%s --version %v", path, slow),
			Why: "a loaded machine (or a slow disk) makes it so: servers start as slowly, and waits for them may run out",
			Fix: "run oca doctor again when the machine is less busy; give accounts more time with start_timeout in accounts.toml"}}, opencode.Version{}
	}
	switch {
	case err != nil:
		return []Finding{{Check: "opencode", Severity: Error, What: fmt.Sprintf("%s does not run: %v", path, err),
			Why: "oca runs OpenCode's servers and commands", Fix: "npm install -g opencode-ai"}}, opencode.Version{}
	case !v.Known():
		return []Finding{{Check: "opencode", Severity: Error,
			What: fmt.Sprintf("%s is %s: %s", path, v, opencode.Supported),
			Why:  "oca starts no server of an OpenCode it does not know, nor runs it as a client of an account's server",
			Fix:  "npm install -g opencode-ai   # or name another with opencode = \"/path\" in accounts.toml"}}, v
	case v.Preview:
		return []Finding{{Check: "opencode", Severity: OK,
			What: fmt.Sprintf("%s (V2 preview) at %s: oca supervises its server; it has no TUI and no run", v, path)}}, v
	case v.V2():
		return []Finding{{Check: "opencode", Severity: OK, What: fmt.Sprintf("%s (V2) at %s", v, path)}}, v
	case in.Tested != "" && !strings.HasPrefix(v.Text, in.Tested):
		return []Finding{{Check: "opencode", Severity: Warn,
			What: fmt.Sprintf("opencode %s is a version oca has not been tested with (tested: %sx)", v.Text, in.Tested),
			Why:  "its server's behaviour (health, auth, ports) may differ",
			Fix:  "npm install -g opencode-ai@" + strings.TrimSuffix(in.Tested, ".")}}, v
	}
	return []Finding{{Check: "opencode", Severity: OK, What: fmt.Sprintf("%s (V1) at %s", v, path)}}, v
}

// ProviderKeys are variables OpenCode reads credentials from.
func ProviderKeys() []string {
	return []string{
		"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY",
		"GOOGLE_API_KEY", "OPENROUTER_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY", "XAI_API_KEY",
		"DEEPSEEK_API_KEY", "TOGETHER_AI_API_KEY", "FIREWORKS_API_KEY", "CEREBRAS_API_KEY",
		"AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_BEARER_TOKEN_BEDROCK", "GITHUB_TOKEN", "HF_TOKEN", "OPENCODE_API_KEY",
	}
}

func checkEnvKeys(env hook.Env) []Finding {
	var found []string
	for _, k := range ProviderKeys() {
		if env[k] != "" {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return []Finding{{Check: "environment", Severity: OK, What: "no provider keys in the environment"}}
	}
	return []Finding{{Check: "environment", Severity: Warn,
		What: "provider keys in this shell's environment: " + strings.Join(found, ", "),
		Why:  "every OpenCode started from this shell (oca exec, opencode run) sees them, whatever its account; oca's servers do not",
		Fix:  "unset " + strings.Join(found, " ") + "   # and keep them in an account's env table or auth.json instead"}}
}

func checkAccount(dirs account.Dirs, a *account.Account, quote func(string) string) []Finding {
	var out []Finding
	check := "account " + a.Name
	fi, err := os.Stat(a.DataHome)
	if err != nil {
		out = append(out, Finding{Check: check, Severity: Warn, What: fmt.Sprintf("data home %s is missing", a.DataHome),
			Why: "it is made when the account is first used; if it held credentials, they are gone",
			Fix: "oca doctor --fix   # makes it again, empty", mend: func() error { return account.Prepare(dirs, a) }})
		return out
	}
	if fi.Mode().Perm()&0o077 != 0 {
		out = append(out, Finding{Check: check, Severity: Error,
			What: fmt.Sprintf("data home %s has mode %04o", a.DataHome, fi.Mode().Perm()),
			Why:  "it holds the account's credentials and sessions",
			Fix:  "chmod 700 " + shells.Quote(a.DataHome), mend: func() error { return os.Chmod(a.DataHome, 0o700) }})
	}
	if fi, err := os.Stat(a.StateHome); err != nil {
		out = append(out, Finding{Check: check, Severity: Warn, What: fmt.Sprintf("state home %s is missing", a.StateHome),
			Why: "it is made when the account is next used (OpenCode's state: OpenCode 2 registers its server there)",
			Fix: "oca doctor --fix", mend: func() error { return account.Prepare(dirs, a) }})
	} else if fi.Mode().Perm()&0o077 != 0 {
		out = append(out, Finding{Check: check, Severity: Error,
			What: fmt.Sprintf("state home %s has mode %04o", a.StateHome, fi.Mode().Perm()),
			Why:  "OpenCode keeps its state there, OpenCode 2 its server's password",
			Fix:  "chmod 700 " + shells.Quote(a.StateHome), mend: func() error { return os.Chmod(a.StateHome, 0o700) }})
	}
	for _, h := range []struct{ kind, home, real, env, tools string }{
		{"data home", a.DataHome, dirs.Data, "XDG_DATA_HOME", "direnv, mise, nvim"},
		{"state home", a.StateHome, dirs.StateHome(), "XDG_STATE_HOME", "nvim, less, shell histories"},
	} {
		out = append(out, checkHomeEntries(a, h.kind, h.home, h.real, h.env, h.tools, quote)...)
	}
	auth := account.AuthFile(a.DataHome)
	if fi, err := os.Stat(auth); err == nil && fi.Mode().Perm()&0o077 != 0 {
		out = append(out, Finding{Check: check, Severity: Error,
			What: fmt.Sprintf("%s has mode %04o", auth, fi.Mode().Perm()),
			Why:  "it holds the account's provider keys in plain text",
			Fix:  "chmod 600 " + shells.Quote(auth), mend: func() error { return os.Chmod(auth, 0o600) }})
	}
	if err := account.CheckConfigDir(a); err != nil {
		f := Finding{Check: check, Severity: Error, What: strings.TrimPrefix(err.Error(), "account "+a.Name+": "),
			Why: "nothing of the account applies (shells, server, exec, login) until it is a directory of its own",
			Fix: fmt.Sprintf("rm %s && oca doctor --fix   # makes it anew, empty, 0700", shells.Quote(a.ConfigDir))}
		var unsafe *account.UnsafeConfigDirError
		if errors.As(err, &unsafe) {
			// Someone else could change it: its files are the user's
			// config, to keep; only a chmod of the user's own is safe.
			f.Why = "OpenCode runs the plugins and MCP commands it finds there, as you, and sends the account's keys where its opencode.json says: whoever may change it has your account; nothing of the account applies until it is mended"
			f.Fix = unsafe.Fix()
			if unsafe.Mend() != nil {
				f.mend = func() error { return mendConfigDir(a) }
			}
		} else if fi, lerr := os.Lstat(a.ConfigDir); lerr == nil && fi.IsDir() {
			// A directory of the account's that cannot be read: its
			// files are the user's config, to keep.
			_, f.Fix = account.Unreadable(a.ConfigDir, err, "700")
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Getuid() {
				f.mend = func() error { return os.Chmod(a.ConfigDir, 0o700) }
			}
		}
		out = append(out, f)
	} else if _, err := os.Stat(a.ConfigDir); os.IsNotExist(err) && a.ConfigDir != "" {
		out = append(out, Finding{Check: check, Severity: Warn, What: fmt.Sprintf("config dir %s is missing", a.ConfigDir),
			Why: "it is made when the account is next used; OpenCode reads the account's own config from it",
			Fix: "oca doctor --fix", mend: func() error { return account.EnsureConfigDir(a) }})
	}
	pw := account.PasswordFile(dirs, a.Name)
	switch fi, err := os.Stat(pw); {
	case err != nil:
		out = append(out, Finding{Check: check, Severity: Warn, What: "the account has no server password yet",
			Why: "without one, any local process can read the account's keys from its server",
			Fix: "oca doctor --fix", mend: func() error { _, err := account.Password(dirs, a.Name); return err }})
	case fi.Mode().Perm()&0o077 != 0:
		out = append(out, Finding{Check: check, Severity: Error,
			What: fmt.Sprintf("%s has mode %04o", pw, fi.Mode().Perm()),
			Why:  "it is the password of the account's server",
			Fix:  "chmod 600 " + shells.Quote(pw), mend: func() error { return os.Chmod(pw, 0o600) }})
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: check, Severity: OK, What: fmt.Sprintf("port %d, data home %s", a.Port, dirs.Abbrev(a.DataHome))})
	}
	return out
}

// mendConfigDir takes group's and others' write off each directory of the
// user's that keeps the account's config dir from passing its check, from
// the config dir up, and fails at the first fault that is not that (a
// directory of root's or of another user's: never chown'ed here).
func mendConfigDir(a *account.Account) error {
	mended := map[string]bool{}
	for {
		err := account.CheckConfigDir(a)
		var unsafe *account.UnsafeConfigDirError
		if !errors.As(err, &unsafe) {
			return err
		}
		mend := unsafe.Mend()
		if mend == nil || mended[unsafe.Fault.Path] {
			return err // not ours to mend, or a chmod that did not hold
		}
		mended[unsafe.Fault.Path] = true
		if merr := mend(); merr != nil {
			return merr
		}
	}
}

// checkLogins: an expired OAuth login is an error, one that expires within
// a day a warning; both are mended by logging in again.
func checkLogins(a *account.Account, now time.Time) []Finding {
	check := "logins " + a.Name
	logins, err := account.ReadLogins(a.DataHome)
	if err != nil {
		return []Finding{{Check: check, Severity: Error, What: err.Error(),
			Why: "OpenCode cannot use the account's credentials, and oca cannot tell which it has",
			Fix: "oca login " + a.Name + "   # once the file is mended or moved away"}}
	}
	var out []Finding
	for _, l := range logins {
		switch {
		case l.Expires.IsZero():
		case l.Expired(now):
			out = append(out, Finding{Check: check, Severity: Error,
				What: fmt.Sprintf("account %s: %s login expired %s ago", a.Name, l.Name, account.Ago(now.Sub(l.Expires))),
				Why:  "OpenCode refreshes it only while its refresh token is still good; until then the provider refuses the account",
				Fix:  "oca login " + a.Name + " " + shells.Quote(l.Name)})
		case l.Expires.Sub(now) < 24*time.Hour:
			out = append(out, Finding{Check: check, Severity: Warn,
				What: fmt.Sprintf("account %s: %s login expires in %s", a.Name, l.Name, account.Ago(l.Expires.Sub(now))),
				Why:  "once it expires, the provider refuses the account unless OpenCode refreshes it",
				Fix:  "oca login " + a.Name + " " + shells.Quote(l.Name)})
		}
	}
	if len(out) == 0 && len(logins) > 0 {
		var names []string
		for _, l := range logins {
			names = append(names, l.Short(now))
		}
		out = append(out, Finding{Check: check, Severity: OK, What: strings.Join(names, ", ")})
	}
	return out
}

// checkHomeEntries compares one of the account's homes with the user's
// real one: links missing (mended by SyncLinks, which leaves every entry
// the home has, a link the user made included, as the hook does); entries
// other programs made in it that the real home lacks (moved there by
// SyncLinks, as entering does, but across file systems); and entries both
// hold, which are the user's to sort out: oca merges and deletes nothing.
func checkHomeEntries(a *account.Account, kind, home, real, env, tools string, quote func(string) string) []Finding {
	var out []Finding
	check := "account " + a.Name
	if _, err := os.Stat(home); err != nil {
		return nil
	}
	sync := func() error {
		var se *account.StrandedError
		if err := account.SyncLinks(real, home); err != nil && !errors.As(err, &se) {
			return err
		}
		return nil
	}
	if missing := missingLinks(real, home); len(missing) > 0 {
		out = append(out, Finding{Check: check, Severity: Warn,
			What: kind + " lacks links to " + strings.Join(missing, ", "),
			Why:  "inside the project, other tools that use " + env + " (" + tools + ") would not find their files",
			Fix:  "oca doctor --fix", mend: sync})
	}
	strays, err := account.Strays(real, home)
	if err != nil {
		return append(out, Finding{Check: check, Severity: Warn, What: err.Error(),
			Why: "oca cannot tell what other programs left in the account's " + kind,
			Fix: "chmod 700 " + quote(home)})
	}
	var alone, alonePaths []string
	for _, s := range strays {
		mine, theirs := filepath.Join(home, s.Name), filepath.Join(real, s.Name)
		if !s.InReal {
			alone = append(alone, s.Name)
			alonePaths = append(alonePaths, quote(mine))
			continue
		}
		out = append(out, Finding{Check: check, Severity: Warn,
			What: fmt.Sprintf("%s is both in the account's %s, as %s, and in your own %s, as %s: inside the account's projects programs use the first, elsewhere the second", s.Name, kind, mine, env, theirs),
			Why:  "the two have parted (direnv's allow records, a history): oca merges and deletes nothing, and which to keep is yours to choose",
			Fix:  fmt.Sprintf("rm -r %s && oca doctor --fix   # once what you want of it is in %s: then it is linked there", quote(mine), quote(theirs))})
	}
	if len(alone) > 0 {
		what := fmt.Sprintf("%s holds %s, made there by other programs inside a project, which your own %s %s lacks", home, strings.Join(alone, ", "), env, real)
		why := "outside the account's projects those programs do not find them"
		if sameFS(home, real) {
			out = append(out, Finding{Check: check, Severity: Warn, What: what, Why: why,
				Fix: "oca doctor --fix   # moves them there and links them, as entering a project does", mend: sync})
		} else {
			out = append(out, Finding{Check: check, Severity: Warn, What: what,
				Why: why + "; the two lie on different file systems, and oca moves nothing across",
				Fix: fmt.Sprintf("mv -n %s %s/ && oca doctor --fix", strings.Join(alonePaths, " "), quote(real))})
		}
	}
	return out
}

// sameFS tells whether a and b (or, where b is not there yet, its parent)
// lie on one file system: then a rename moves an entry from one to the
// other.
func sameFS(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil {
		return false
	}
	for syscall.Stat(b, &sb) != nil {
		if b == filepath.Dir(b) {
			return false
		}
		b = filepath.Dir(b)
	}
	return sa.Dev == sb.Dev
}

// missingLinks lists the entries of the real data home that the account's
// data home neither links nor holds. An entry it has under that name, a
// link to elsewhere included, is the user's choice and not listed.
func missingLinks(real, shadow string) []string {
	entries, err := os.ReadDir(real)
	if err != nil {
		return nil
	}
	var missing []string
	for _, e := range entries {
		name := e.Name()
		target := filepath.Join(real, name)
		if name == "opencode" || safepath.Within(shadow, target) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(shadow, name)); err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}
