package hook

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/projectfile"
)

// world is a temporary home with two accounts and a few projects.
type world struct {
	t    *testing.T
	home string
	dirs account.Dirs
	base Env // the shell's environment before oca
}

const accountsTOML = `[accounts.work]
port = 10101
trusted_paths = ["~/trusted"]

[accounts.play]
port = 10102
data_home = "~/.opencode_accounts/play"
`

func newWorld(t *testing.T) *world {
	t.Helper()
	home := t.TempDir()
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, home: home, base: Env{"HOME": home, "PATH": "/usr/bin:/bin", "TERM": "xterm"}}
	dirs, err := account.DirsFrom(func(k string) string { return w.base[k] })
	if err != nil {
		t.Fatal(err)
	}
	w.dirs = dirs
	w.write(".config/oca/accounts.toml", accountsTOML)
	// The user's real data home, with another tool's data in it.
	w.mkdir(".local/share/direnv/allow")
	return w
}

func (w *world) path(rel string) string { return filepath.Join(w.home, rel) }

func (w *world) mkdir(rel string) string {
	w.t.Helper()
	p := w.path(rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) write(rel, content string) string {
	w.t.Helper()
	p := w.path(rel)
	w.mkdir(filepath.Dir(rel))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// mtime counts up, so that every edit has an mtime of its own whatever the
// file system's clock granularity.
var mtime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// edit rewrites a file and gives it a new modification time.
func (w *world) edit(rel, content string) {
	w.t.Helper()
	p := w.write(rel, content)
	mtime = mtime.Add(time.Second)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		w.t.Fatal(err)
	}
}

// project writes a project file in dir naming account, and allows it.
func (w *world) project(dir, acct string) string {
	w.t.Helper()
	p := w.write(filepath.Join(dir, projectfile.Name), "account = \""+acct+"\"\n")
	w.allow(p)
	return w.path(dir)
}

func (w *world) allow(p string) {
	w.t.Helper()
	real, err := projectfile.RealPath(p)
	if err != nil {
		w.t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := (projectfile.Trust{Dir: w.dirs.TrustDir()}).Allow(p, real, data); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) export(env Env, pwd string) *Output {
	w.t.Helper()
	out, err := Export(Input{Env: env, PWD: pwd})
	if err != nil {
		w.t.Fatalf("Export(%s): %v", pwd, err)
	}
	return out
}

// cd runs the engine for pwd and applies its changes as a shell would.
func (w *world) cd(env Env, pwd string) (Env, *Output) {
	w.t.Helper()
	out := w.export(env, pwd)
	return applyChanges(env, out), out
}

// applyChanges is what the shell does with the engine's output.
func applyChanges(env Env, out *Output) Env {
	next := maps.Clone(env)
	for _, c := range out.Changes {
		if c.Unset {
			delete(next, c.Name)
		} else {
			next[c.Name] = c.Value
		}
	}
	return next
}

func (w *world) account(name string) *account.Account {
	w.t.Helper()
	r, err := account.Load(w.dirs)
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := r.Get(name)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// wantBound checks that env holds account name's variables.
func (w *world) wantBound(env Env, name string) {
	w.t.Helper()
	a := w.account(name)
	want := map[string]string{
		"XDG_DATA_HOME":            a.DataHome,
		"XDG_STATE_HOME":           a.StateHome,
		"OPENCODE_ACCOUNT":         name,
		"OPENCODE_PORT":            map[string]string{"work": "10101", "play": "10102"}[name],
		"OPENCODE_SERVER_URL":      a.URL(),
		"OPENCODE_SERVER_PASSWORD": readPassword(w.dirs, name),
		"OPENCODE_CONFIG_DIR":      a.ConfigDir,
	}
	for k, v := range want {
		if env[k] != v {
			w.t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if len(want["OPENCODE_SERVER_PASSWORD"]) < 16 {
		w.t.Errorf("no password for %s", name)
	}
	st, err := DecodeState(env[StateVar])
	if err != nil || st.Account != name {
		w.t.Errorf("state = %+v, %v", st, err)
	}
}

func wantEnv(t *testing.T, got, want Env) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %q (set %v), want %q", k, g, ok, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s = %q, want it unset", k, v)
		}
	}
}

func wantNoChanges(t *testing.T, out *Output) {
	t.Helper()
	if len(out.Changes) != 0 {
		t.Errorf("changes = %+v, want none", out.Changes)
	}
}

// wantNoVarChanges allows a new state (the file's signature in it) alone.
func wantNoVarChanges(t *testing.T, out *Output) {
	t.Helper()
	for _, c := range out.Changes {
		if c.Name != StateVar {
			t.Errorf("change %+v, want none but the state", c)
		}
	}
}

func wantMessage(t *testing.T, out *Output, subs ...string) {
	t.Helper()
	if len(out.Messages) != 1 {
		t.Fatalf("messages = %q, want one", out.Messages)
	}
	m := out.Messages[0]
	if strings.Contains(m, "\n") || !strings.HasPrefix(m, "oca: ") {
		t.Errorf("message %q is not one line starting oca:", m)
	}
	for _, s := range subs {
		if !strings.Contains(m, s) {
			t.Errorf("message %q lacks %q", m, s)
		}
	}
}

func TestEnterStayLeave(t *testing.T) {
	w := newWorld(t)
	proj := w.project("code/proj", "work")
	w.mkdir("code/proj/sub/deeper")
	outside := w.mkdir("elsewhere")

	// Outside any project: nothing to do.
	env, out := w.cd(w.base, outside)
	wantNoChanges(t, out)
	if out.Account != "" || len(out.Messages) != 0 {
		t.Fatalf("outside: %+v", out)
	}

	env, out = w.cd(env, proj)
	w.wantBound(env, "work")
	if out.Entered != "work" || out.Account != "work" || out.Left != "" || len(out.Messages) != 0 {
		t.Fatalf("enter: %+v", out)
	}
	// The data home was made, private, with the user's other data linked.
	dh := w.account("work").DataHome
	if fi, err := os.Stat(dh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data home: %v %v", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(dh, "direnv")); l != filepath.Join(w.dirs.Data, "direnv") {
		t.Errorf("direnv link -> %q", l)
	}

	// Staying: no change, no message, nothing entered.
	for _, dir := range []string{proj, proj, filepath.Join(proj, "sub"), filepath.Join(proj, "sub", "deeper"), proj} {
		out = w.export(env, dir)
		wantNoChanges(t, out)
		if out.Entered != "" || out.Left != "" || out.Account != "work" || len(out.Messages) != 0 {
			t.Fatalf("stay in %s: %+v", dir, out)
		}
	}

	env, out = w.cd(env, outside)
	if out.Left != "work" || out.Account != "" {
		t.Fatalf("leave: %+v", out)
	}
	wantEnv(t, env, w.base)
	out = w.export(env, outside)
	wantNoChanges(t, out)
}

func TestSwitchAndNested(t *testing.T) {
	w := newWorld(t)
	work := w.project("code/work", "work")
	play := w.project("code/play", "play")
	inner := w.project("code/work/vendor/toy", "play")
	w.mkdir("code/work/vendor/other")

	env, _ := w.cd(w.base, work)
	w.wantBound(env, "work")

	// One step from work to play: every variable changes, nothing is unset.
	env, out := w.cd(env, play)
	w.wantBound(env, "play")
	if out.Left != "work" || out.Entered != "play" {
		t.Fatalf("switch: %+v", out)
	}
	for _, c := range out.Changes {
		if c.Unset {
			t.Errorf("switch unsets %s", c.Name)
		}
	}
	// And back, then into a nested project of the other account.
	env, _ = w.cd(env, work)
	w.wantBound(env, "work")
	env, out = w.cd(env, inner)
	w.wantBound(env, "play")
	if out.Entered != "play" || out.Left != "work" {
		t.Fatalf("nested: %+v", out)
	}
	env, _ = w.cd(env, w.path("code/work/vendor/other"))
	w.wantBound(env, "work")

	// Whatever the path taken, leaving gives the shell back as it was.
	env, _ = w.cd(env, w.path("code"))
	wantEnv(t, env, w.base)
}

func TestLeaveRestoresExactly(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	hostile := []string{
		"with spaces  and  more ",
		`"double" 'single' $HOME ${x} $(id) ` + "`id`",
		`back\slash\\ \n \t`,
		"new\nline\n\n",
		"\nleading newline",
		"tab\there",
		"é 日本 🎉",
		"\x01\x1b[31m\x7f",
		"=",
		"",
	}
	for i, v := range hostile {
		base := maps.Clone(w.base)
		// OPENCODE_PORT and the password hold hostile values; the rest are unset.
		base["OPENCODE_PORT"] = v
		base["OPENCODE_SERVER_PASSWORD"] = hostile[(i+1)%len(hostile)]
		env, _ := w.cd(base, proj)
		w.wantBound(env, "work")
		env, _ = w.cd(env, w.home)
		wantEnv(t, env, base)
	}
	// Every managed variable set before, to values that are not oca's.
	base := maps.Clone(w.base)
	for i, name := range Managed() {
		base[name] = hostile[i]
	}
	env, _ := w.cd(base, proj)
	w.wantBound(env, "work")
	env, _ = w.cd(env, w.home)
	wantEnv(t, env, base)
}

func TestLeaveKeepsWhatTheUserChanged(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	base := maps.Clone(w.base)
	base["OPENCODE_PORT"] = "before"
	env, _ := w.cd(base, proj)
	env["OPENCODE_PORT"] = "mine now"
	env["OPENCODE_ACCOUNT"] = "also mine"
	delete(env, "OPENCODE_SERVER_URL")
	env, _ = w.cd(env, w.home)
	want := maps.Clone(base)
	want["OPENCODE_PORT"] = "mine now"
	want["OPENCODE_ACCOUNT"] = "also mine"
	wantEnv(t, env, want)
}

func TestSubshellWithOwnDirectory(t *testing.T) {
	// A shell started inside a project inherits oca's variables and state,
	// then finds itself elsewhere: it puts itself right.
	w := newWorld(t)
	proj := w.project("proj", "work")
	env, _ := w.cd(w.base, proj)
	env2, _ := w.cd(env, w.home)
	wantEnv(t, env2, w.base)
	// Or inside another account's project.
	play := w.project("play", "play")
	env3, _ := w.cd(env, play)
	w.wantBound(env3, "play")
	env3, _ = w.cd(env3, w.home)
	wantEnv(t, env3, w.base)
}

func TestRealDataHomeSeenThroughState(t *testing.T) {
	// oca derives its directories from the environment before its changes:
	// inside a project the user's own XDG_DATA_HOME still decides.
	w := newWorld(t)
	custom := w.mkdir("custom-data")
	w.mkdir("custom-data/mise")
	base := maps.Clone(w.base)
	base["XDG_DATA_HOME"] = custom
	proj := w.project("proj", "work")
	env, _ := w.cd(base, proj)
	dh := filepath.Join(custom, "oca", "accounts", "work")
	if env["XDG_DATA_HOME"] != dh {
		t.Fatalf("XDG_DATA_HOME = %q, want %q", env["XDG_DATA_HOME"], dh)
	}
	if l, _ := os.Readlink(filepath.Join(dh, "mise")); l != filepath.Join(custom, "mise") {
		t.Errorf("mise -> %q", l)
	}
	out := w.export(env, filepath.Join(proj))
	wantNoChanges(t, out)
	// Nothing was made inside the account's data home as if it were the user's.
	if _, err := os.Stat(filepath.Join(dh, "oca")); !os.IsNotExist(err) {
		t.Errorf("nested oca dir in the data home: %v", err)
	}
}

func TestUntrustedDeniedUnknown(t *testing.T) {
	w := newWorld(t)
	untrusted := w.write("untrusted/"+projectfile.Name, "account = \"work\"\n")
	denied := w.project("denied", "work")
	deniedFile := filepath.Join(denied, projectfile.Name)
	if err := (projectfile.Trust{Dir: w.dirs.TrustDir()}).Deny(deniedFile, "", nil); err != nil {
		t.Fatal(err)
	}
	unknown := w.project("unknown", "nobody")

	out := w.export(w.base, filepath.Dir(untrusted))
	wantNoChanges(t, out)
	wantMessage(t, out, untrusted, "oca allow "+filepath.Dir(untrusted), "work")

	out = w.export(w.base, denied)
	wantNoChanges(t, out)
	wantMessage(t, out, deniedFile, "denied")

	out = w.export(w.base, unknown)
	wantNoChanges(t, out)
	wantMessage(t, out, "oca account add nobody")

	// From inside an account, each of them leaves it, restoring the shell.
	proj := w.project("proj", "play")
	for _, dir := range []string{filepath.Dir(untrusted), denied, unknown} {
		env, _ := w.cd(w.base, proj)
		env, out = w.cd(env, dir)
		if out.Left != "play" || len(out.Messages) != 1 {
			t.Errorf("%s: %+v", dir, out)
		}
		wantEnv(t, env, w.base)
	}

	// Allowing makes it apply.
	w.allow(untrusted)
	env, _ := w.cd(w.base, filepath.Dir(untrusted))
	w.wantBound(env, "work")
}

func TestTrustedPath(t *testing.T) {
	w := newWorld(t)
	dir := w.mkdir("trusted/a/proj")
	w.write("trusted/a/proj/"+projectfile.Name, "account = \"work\"\n")
	env, out := w.cd(w.base, dir)
	w.wantBound(env, "work")
	if len(out.Messages) != 0 {
		t.Fatalf("messages: %q", out.Messages)
	}
	out = w.export(env, dir)
	wantNoChanges(t, out)
	// Trusted paths are the account's: a file naming another account there
	// is not trusted by them.
	other := w.mkdir("trusted/b")
	w.write("trusted/b/"+projectfile.Name, "account = \"play\"\n")
	out = w.export(w.base, other)
	wantNoChanges(t, out)
	wantMessage(t, out, "oca allow")
}

func TestEditsWhileInside(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	rel := "proj/" + projectfile.Name
	env, _ := w.cd(w.base, proj)
	w.wantBound(env, "work")

	// Broken file: a message naming file:line, no change at all, and the
	// shell stays as it is.
	w.edit(rel, "account = \"work\"\nautostart = maybe\n")
	before := maps.Clone(env)
	env, out := w.cd(env, proj)
	wantNoChanges(t, out)
	wantMessage(t, out, w.path(rel)+":2")
	wantEnv(t, env, before)
	if out.Account != "work" {
		t.Errorf("Account = %q while broken inside work", out.Account)
	}

	// Mended (and allowed again): the same account, nothing to change.
	w.edit(rel, "account = \"work\"\n")
	w.allow(w.path(rel))
	env, out = w.cd(env, proj)
	wantNoVarChanges(t, out)
	w.wantBound(env, "work")
	if out.Entered != "" || len(out.Messages) != 0 {
		t.Fatalf("mended: %+v", out)
	}

	// An edit revokes the allow: the shell leaves the account.
	w.edit(rel, "account = \"work\"\nautostart = false\n")
	env, out = w.cd(env, proj)
	wantMessage(t, out, "oca allow")
	wantEnv(t, env, w.base)

	// Allowed, naming another account: a switch.
	w.allow(w.path(rel))
	env, _ = w.cd(env, proj)
	w.wantBound(env, "work")
	w.edit(rel, "account = \"play\"\n")
	w.allow(w.path(rel))
	env, out = w.cd(env, proj)
	w.wantBound(env, "play")
	if out.Left != "work" || out.Entered != "play" {
		t.Fatalf("switch by edit: %+v", out)
	}

	// Denied while inside.
	if err := (projectfile.Trust{Dir: w.dirs.TrustDir()}).Deny(w.path(rel), "", nil); err != nil {
		t.Fatal(err)
	}
	env, out = w.cd(env, proj)
	wantMessage(t, out, "denied")
	wantEnv(t, env, w.base)

	// Deleted while inside (after an allow): the shell leaves.
	w.allow(w.path(rel))
	env, _ = w.cd(env, proj)
	w.wantBound(env, "play")
	if err := os.Remove(w.path(rel)); err != nil {
		t.Fatal(err)
	}
	env, out = w.cd(env, proj)
	if out.Left != "play" {
		t.Fatalf("deleted: %+v", out)
	}
	wantEnv(t, env, w.base)
}

func TestBrokenFileOutside(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct{ content, want string }{
		{"account = \"work\"\n\nfoo = 1\n", ":3: key foo"},
		{"account = \"../x\"\n", ":1: key account"},
		{"\naccount = 1\n", ":2: key account"},
		{strings.Repeat("#", projectfile.MaxSize+1), "larger than"},
	} {
		p := w.write("broken/"+projectfile.Name, tc.content)
		out := w.export(w.base, w.path("broken"))
		wantNoChanges(t, out)
		wantMessage(t, out, p, tc.want)
	}
}

func TestBrokenAccountsFile(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	env, _ := w.cd(w.base, proj)
	w.edit(".config/oca/accounts.toml", accountsTOML+"\n[accounts.work.oops]\n")
	before := maps.Clone(env)
	env, out := w.cd(env, proj)
	wantNoChanges(t, out)
	wantMessage(t, out, w.dirs.AccountsFile())
	wantEnv(t, env, before)
	// A deleted account: the shell leaves it, and says how to make it.
	w.edit(".config/oca/accounts.toml", "[accounts.play]\nport = 10102\n")
	env, out = w.cd(env, proj)
	wantMessage(t, out, "oca account add work")
	wantEnv(t, env, w.base)
}

func encodeRaw(v any) string {
	data, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(data)
}

func TestCorruptState(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	port := fingerprint("10101")
	for _, tc := range []struct {
		name, state string
	}{
		{"garbage", "garbage!!"},
		{"spaces", "  "},
		{"base64 of non-JSON", base64.RawURLEncoding.EncodeToString([]byte("hello world"))},
		{"std base64", base64.StdEncoding.EncodeToString([]byte(`{"v":1}`))},
		{"JSON array", encodeRaw([]int{1})},
		{"another version", encodeRaw(map[string]any{"v": 2, "account": "work", "applied": map[string]string{"OPENCODE_PORT": port}})},
		{"no version", encodeRaw(map[string]any{"account": "work"})},
		{"a variable oca does not manage", encodeRaw(map[string]any{"v": 1, "account": "work", "prev": map[string]any{"PATH": "/evil"}, "applied": map[string]string{"PATH": fingerprint("/usr/bin:/bin")}})},
		{"prev without applied", encodeRaw(map[string]any{"v": 1, "account": "work", "prev": map[string]any{"OPENCODE_PORT": "x"}, "applied": map[string]string{}})},
		{"too long", strings.Repeat("A", maxStateLen+1)},
		{"wrong types", encodeRaw(map[string]any{"v": 1, "account": 5, "prev": "x"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Outside a project: a message, the variables left alone, the
			// state dropped.
			env := maps.Clone(w.base)
			env["OPENCODE_PORT"] = "10101"
			env["PATH"] = "/usr/bin:/bin"
			env[StateVar] = tc.state
			out := w.export(env, w.home)
			wantMessage(t, out, StateVar)
			if want := []Change{{Name: StateVar, Unset: true}}; !slices.Equal(out.Changes, want) {
				t.Fatalf("changes = %+v, want %+v", out.Changes, want)
			}
			next := applyChanges(env, out)
			want := maps.Clone(env)
			delete(want, StateVar)
			wantEnv(t, next, want)

			// Inside a project: a message and a fresh, valid state.
			env[StateVar] = tc.state
			next, out = w.cd(env, proj)
			wantMessage(t, out, StateVar)
			w.wantBound(next, "work")
		})
	}
}

func TestEnvFromAndOriginal(t *testing.T) {
	env := EnvFrom([]string{"A=1", "B=x=y", "C=", "NOEQUALS", "A=2", "=weird"})
	want := Env{"A": "2", "B": "x=y", "C": "", "": "weird"}
	if !maps.Equal(env, want) {
		t.Fatalf("EnvFrom = %v", env)
	}
	prev := "before"
	st := &State{V: 1, Prev: map[string]*string{"OPENCODE_PORT": &prev, "OPENCODE_ACCOUNT": nil},
		Applied: map[string]string{"OPENCODE_PORT": fingerprint("1"), "OPENCODE_ACCOUNT": fingerprint("a"), "XDG_DATA_HOME": fingerprint("/d")}}
	cur := Env{"OPENCODE_PORT": "1", "OPENCODE_ACCOUNT": "a", "XDG_DATA_HOME": "/user/changed", StateVar: "x"}
	got := Original(cur, st)
	if !maps.Equal(got, Env{"OPENCODE_PORT": "before", "XDG_DATA_HOME": "/user/changed"}) {
		t.Fatalf("Original = %v", got)
	}
	if !maps.Equal(Original(cur, nil), Env{"OPENCODE_PORT": "1", "OPENCODE_ACCOUNT": "a", "XDG_DATA_HOME": "/user/changed"}) {
		t.Fatal("Original without state")
	}
}

func TestEnviron(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	base := maps.Clone(w.base)
	base["OPENCODE_PORT"] = "old"
	env, _ := w.cd(base, proj)
	a := w.account("play")
	a.Env = map[string]string{"ANTHROPIC_BASE_URL": "http://x", "PATH": "/acct/bin"}
	got := Environ(env, a, "pw")
	if got["XDG_DATA_HOME"] != a.DataHome || got["OPENCODE_PORT"] != "10102" || got["OPENCODE_SERVER_PASSWORD"] != "pw" ||
		got["ANTHROPIC_BASE_URL"] != "http://x" || got["PATH"] != "/acct/bin" || got["HOME"] != w.home {
		t.Fatalf("Environ = %v", got)
	}
	if _, ok := got[StateVar]; ok {
		t.Fatal("Environ passes the state on")
	}
	// Without a password, none is set, even one the shell had.
	got = Environ(env, a, "")
	if _, ok := got["OPENCODE_SERVER_PASSWORD"]; ok {
		t.Fatalf("password %q without one", got["OPENCODE_SERVER_PASSWORD"])
	}
}

func TestExportNeedsHome(t *testing.T) {
	_, err := Export(Input{Env: Env{"PATH": "/bin"}, PWD: "/"})
	if err == nil {
		t.Fatal("no error without HOME")
	}
}

func TestTrustedPathLoosenedWhileInside(t *testing.T) {
	w := newWorld(t)
	dir := w.mkdir("trusted/proj")
	w.write("trusted/proj/"+projectfile.Name, "account = \"work\"\n")
	env, _ := w.cd(w.base, dir)
	w.wantBound(env, "work")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	env, out := w.cd(env, dir)
	if out.Left != "work" {
		t.Fatalf("a project in a directory others may write to stays trusted: %+v", out)
	}
	wantEnv(t, env, w.base)
}

// readPassword is the account's password as its file holds it.
func readPassword(dirs account.Dirs, name string) string {
	data, _ := os.ReadFile(account.PasswordFile(dirs, name))
	return strings.TrimSpace(string(data))
}
