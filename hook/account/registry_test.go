package account

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/projectfile"
)

// testDirs returns Dirs inside a fresh temporary home.
func testDirs(t *testing.T) Dirs {
	t.Helper()
	home := t.TempDir()
	d, err := DirsFrom(envOf(map[string]string{"HOME": home}))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeAccounts(t *testing.T, d Dirs, content string) {
	t.Helper()
	if err := os.MkdirAll(d.Config, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.AccountsFile(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	d := testDirs(t)
	r, err := Load(d)
	if err != nil || len(r.Accounts) != 0 || r.Path != d.AccountsFile() {
		t.Fatalf("Load = %+v, %v", r, err)
	}
	if _, err := r.Get("work"); err == nil || !strings.Contains(err.Error(), "oca account add work") {
		t.Fatalf("Get of a missing account: %v", err)
	}
	var nf *NotFoundError
	if _, err := r.Get("x"); !errors.As(err, &nf) || nf.Name != "x" {
		t.Fatalf("Get error %T", err)
	}
}

func TestLoadValid(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, `opencode = "~/bin/opencode"

[accounts.work]
port = 10001
data_home = "~/.opencode_accounts/work"
idle_timeout = "30m"
trusted_paths = ["~/work", "/srv/code/"]

[accounts.work.env]
ANTHROPIC_BASE_URL = "http://x"
_X1 = ""

[accounts.play]
port = 20000
idle_timeout = "0"
`)
	r, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Opencode != filepath.Join(d.Home, "bin/opencode") {
		t.Errorf("Opencode = %q", r.Opencode)
	}
	if got := r.Names(); strings.Join(got, ",") != "play,work" {
		t.Errorf("Names = %v", got)
	}
	w := r.Accounts["work"]
	if w.Port != 10001 || w.DataHome != filepath.Join(d.Home, ".opencode_accounts/work") || w.IdleTimeout != 30*time.Minute ||
		strings.Join(w.TrustedPaths, ",") != filepath.Join(d.Home, "work")+",/srv/code" ||
		w.Env["ANTHROPIC_BASE_URL"] != "http://x" || w.URL() != "http://127.0.0.1:10001" {
		t.Errorf("work = %+v", w)
	}
	p := r.Accounts["play"]
	if p.Port != 20000 || p.DataHome != d.DefaultDataHome("play") || p.IdleTimeout != 0 {
		t.Errorf("play = %+v", p)
	}
	// A file written before state homes: each account gets the default.
	for _, a := range []*Account{w, p} {
		if a.StateHome != filepath.Join(d.Home, ".local/state/oca/homes", a.Name) {
			t.Errorf("%s: state home %q", a.Name, a.StateHome)
		}
	}
	if r.Dirs() != d {
		t.Errorf("Dirs = %+v", r.Dirs())
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		line int
		key  string
		msg  string
	}{
		{"unknown top key", "[accounts.a]\nport = 10001\n\nfoo = 1\n", 4, "accounts.a.foo", "unknown key"},
		{"unknown account key", "\n[accounts.a]\nport = 10001\nprot = 2\n", 4, "accounts.a.prot", "unknown key"},
		{"unknown top-level key", "colour = \"red\"\n", 1, "colour", "unknown key"},
		{"duplicate port", "[accounts.a]\nport = 10001\n\n[accounts.b]\nport = 10001\n", 5, "accounts.b.port", "also account a's"},
		{"duplicate data_home", "[accounts.a]\nport = 10001\ndata_home = \"~/d\"\n[accounts.b]\nport = 10002\ndata_home = \"~/d/\"\n", 6, "accounts.b.data_home", "also account a's"},
		{"duplicate default data_home", "[accounts.a]\nport = 10001\n[accounts.b]\nport = 10002\n\ndata_home = \"~/.local/share/oca/accounts/a\"\n", 6, "accounts.b.data_home", "also account a's"},
		{"data_home is XDG_DATA_HOME", "[accounts.a]\nport = 10001\n\n\ndata_home = \"~/.local/share\"\n", 5, "accounts.a.data_home", "your own XDG_DATA_HOME"},
		{"relative data_home", "[accounts.a]\nport = 10001\ndata_home = \"d\"\n", 3, "accounts.a.data_home", "not absolute"},
		{"relative state_home", "[accounts.a]\nport = 10001\nstate_home = \"s\"\n", 3, "accounts.a.state_home", "not absolute"},
		{"duplicate state_home", "[accounts.a]\nport = 10001\nstate_home = \"~/s\"\n[accounts.b]\nport = 10002\nstate_home = \"~/s/\"\n", 6, "accounts.b.state_home", "state_home is also account a's"},
		{"state_home is another's data_home", "[accounts.a]\nport = 10001\ndata_home = \"~/d\"\n[accounts.b]\nport = 10002\nstate_home = \"~/d\"\n", 6, "accounts.b.state_home", "is account a's data home"},
		{"state_home is its own data_home", "[accounts.a]\nport = 10001\ndata_home = \"~/d\"\nstate_home = \"~/d\"\n", 4, "accounts.a.state_home", "is the account's data home"},
		{"state_home is XDG_STATE_HOME", "[accounts.a]\nport = 10001\nstate_home = \"~/.local/state\"\n", 3, "accounts.a.state_home", "your own XDG_STATE_HOME"},
		{"bad idle_timeout", "[accounts.a]\nport = 10001\nidle_timeout = \"soon\"\n", 3, "accounts.a.idle_timeout", "not a duration"},
		{"negative idle_timeout", "[accounts.a]\nport = 10001\n\nidle_timeout = \"-1h\"\n", 4, "accounts.a.idle_timeout", "not a duration"},
		{"bare number idle_timeout", "[accounts.a]\nport = 10001\nidle_timeout = \"60\"\n", 3, "accounts.a.idle_timeout", "not a duration"},
		{"idle_timeout wrong type", "[accounts.a]\nport = 10001\nidle_timeout = 60\n", 3, "accounts.a.idle_timeout", "wrong type"},
		{"bad start_timeout", "[accounts.a]\nport = 10001\nstart_timeout = \"soon\"\n", 3, "accounts.a.start_timeout", "not a number of seconds"},
		{"zero start_timeout", "[accounts.a]\nport = 10001\nstart_timeout = 0\n", 3, "accounts.a.start_timeout", "needs some time to start"},
		{"start_timeout wrong type", "[accounts.a]\nport = 10001\nstart_timeout = true\n", 3, "accounts.a.start_timeout", "not a number of seconds"},
		{"port too low", "[accounts.a]\nport = 80\n", 2, "accounts.a.port", "outside 1024-65535"},
		{"port too high", "[accounts.a]\n\nport = 65536\n", 3, "accounts.a.port", "outside 1024-65535"},
		{"port missing", "[accounts.a]\ndata_home = \"~/x\"\n", 0, "accounts.a.port", "port 0 is outside"},
		{"port is a string", "[accounts.a]\nport = \"10001\"\n", 2, "accounts.a.port", "wrong type"},
		{"port overflows", "[accounts.a]\nport = 99999999999999999999\n", 2, "", ""},
		{"bad env name", "[accounts.a]\nport = 10001\n\n[accounts.a.env]\n\"1X\" = \"v\"\n", 4, "accounts.a.env", "not a variable name"},
		{"env name with =", "[accounts.a]\nport = 10001\nenv = { \"A=B\" = \"v\" }\n", 3, "accounts.a.env", "not a variable name"},
		{"env value wrong type", "[accounts.a]\nport = 10001\nenv = { A = 1 }\n", 3, "", "wrong type"},
		{"bad account name", "[accounts.Work]\nport = 10001\n", 1, "accounts.Work", "bad account name"},
		{"key in another case", "[accounts.a]\nport = 10001\nPort = 10002\n", 3, "accounts.a.Port", "lower case: write port"},
		{"table in another case", "[Accounts.a]\nport = 10001\n", 1, "Accounts", "lower case: write accounts"},
		{"dot dot account name", "\n[accounts.\"..\"]\nport = 10001\n", 2, "accounts.\"..\"", "bad account name"},
		{"relative trusted path", "[accounts.a]\nport = 10001\ntrusted_paths = [\"work\"]\n", 3, "accounts.a.trusted_paths", "not absolute"},
		{"relative opencode", "opencode = \"bin/opencode\"\n", 1, "opencode", "not absolute"},
		{"syntax error", "[accounts.a]\nport = 10001\ndata_home = ~/x\n", 3, "accounts.a.data_home", "expected value"},
		{"duplicate table", "[accounts.a]\nport = 10001\n[accounts.a]\nport = 10002\n", 3, "", "already been defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDirs(t)
			writeAccounts(t, d, tc.in)
			r, err := Load(d)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", r)
			}
			var pe *projectfile.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *projectfile.Error", err, err)
			}
			if pe.Path != d.AccountsFile() || pe.Line != tc.line || (tc.key != "" && pe.Key != tc.key) || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("error = %#v, want line %d key %q msg ~%q", pe, tc.line, tc.key, tc.msg)
			}
			want := d.AccountsFile()
			if tc.line > 0 {
				want += ":" + strconv.Itoa(tc.line)
			}
			if !strings.HasPrefix(err.Error(), want+": ") {
				t.Fatalf("%q does not start with %q", err, want)
			}
		})
	}
}

// TestStartTimeout: how long an account's server may take to become ready,
// as seconds or a duration, with a default that holds on a loaded machine
// (a fixed 60 s did not: issue 17, item 7).
func TestStartTimeout(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, "[accounts.a]\nport = 10001\n[accounts.b]\nport = 10002\nstart_timeout = 300\n[accounts.c]\nport = 10003\nstart_timeout = \"90s\"\n[accounts.d]\nport = 10004\nstart_timeout = \"45\"\n")
	r, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]time.Duration{"a": DefaultStartTimeout, "b": 300 * time.Second, "c": 90 * time.Second, "d": 45 * time.Second} {
		if got := r.Accounts[name].StartTimeout; got != want {
			t.Errorf("account %s: StartTimeout = %s, want %s", name, got, want)
		}
	}
	if DefaultStartTimeout < 2*time.Minute {
		t.Errorf("DefaultStartTimeout = %s: servers took 36 s under load, and 60 s failed", DefaultStartTimeout)
	}
	for in, want := range map[string]time.Duration{"60": time.Minute, "1.5": 1500 * time.Millisecond, "2m": 2 * time.Minute, "0": 0} {
		if got, err := Seconds(in); err != nil || got != want {
			t.Errorf("Seconds(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "soon", "-5", "-1s", "1e30", "NaN"} {
		if got, err := Seconds(in); err == nil {
			t.Errorf("Seconds(%q) = %s, want an error", in, got)
		}
	}
}

func TestLoadTooLarge(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, strings.Repeat("#", maxAccountsSize+1))
	_, err := Load(d)
	var pe *projectfile.Error
	if !errors.As(err, &pe) || pe.Path != d.AccountsFile() {
		t.Fatalf("Load of a huge file: %v", err)
	}
}

func TestAddAndSave(t *testing.T) {
	d := testDirs(t)
	err := Update(d, func(r *Registry) error {
		if _, err := r.Add("work", AddOptions{Port: 12000, DataHome: "~/.opencode_accounts/work"}); err != nil {
			return err
		}
		a, err := r.Add("play", AddOptions{Port: 12001})
		if err != nil {
			return err
		}
		if a.DataHome != d.DefaultDataHome("play") || a.IdleTimeout != DefaultIdle {
			t.Errorf("play = %+v", a)
		}
		return r.SetTrustedPaths("work", []string{"~/work", d.Home + "/work", "/srv"})
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(d.AccountsFile())
	if err != nil {
		t.Fatal(err)
	}
	// Paths are kept as a user writes them.
	for _, s := range []string{`data_home = "~/.opencode_accounts/work"`, `data_home = "~/.local/share/oca/accounts/play"`, `trusted_paths = ["~/work", "/srv"]`} {
		if !strings.Contains(string(data), s) {
			t.Errorf("accounts.toml lacks %s:\n%s", s, data)
		}
	}
	fi, _ := os.Stat(d.AccountsFile())
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("accounts.toml mode %v", fi.Mode())
	}
	fi, _ = os.Stat(d.Config)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode %v", fi.Mode())
	}
	r, err := Load(d)
	if err != nil {
		t.Fatalf("Load of what Update wrote: %v\n%s", err, data)
	}
	if w := r.Accounts["work"]; w == nil || w.Port != 12000 || len(w.TrustedPaths) != 2 {
		t.Fatalf("work = %+v", w)
	}

	// Remove keeps the data home, and a failed change saves nothing.
	err = Update(d, func(r *Registry) error {
		if _, err := r.Remove("play"); err != nil {
			return err
		}
		_, err := r.Remove("play")
		return err
	})
	if err == nil {
		t.Fatal("removing twice: no error")
	}
	if r, _ := Load(d); r.Accounts["play"] == nil {
		t.Fatal("a failed Update saved its change")
	}
}

func TestAddErrors(t *testing.T) {
	d := testDirs(t)
	r, _ := Load(d)
	if _, err := r.Add("work", AddOptions{Port: 12000}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  AddOptions
		msg  string
	}{
		{"work", AddOptions{}, "exists already"},
		{"../x", AddOptions{}, "bad account name"},
		{"A", AddOptions{}, "bad account name"},
		{"", AddOptions{}, "bad account name"},
		{"b", AddOptions{Port: 12000}, "port 12000 is also account work's"},
		{"b", AddOptions{Port: 80}, "outside"},
		{"b", AddOptions{Port: 70000}, "outside"},
		{"b", AddOptions{Port: 12001, DataHome: "~/.local/share/oca/accounts/work"}, "also account work's"},
		{"b", AddOptions{Port: 12001, DataHome: "~/.local/share"}, "your own XDG_DATA_HOME"},
		{"b", AddOptions{Port: 12001, DataHome: "rel"}, "not absolute"},
	} {
		if _, err := r.Add(tc.name, tc.opt); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Add(%q, %+v) = %v, want ~%q", tc.name, tc.opt, err, tc.msg)
		}
	}
	if len(r.Accounts) != 1 {
		t.Fatalf("failed adds left accounts: %v", r.Names())
	}
	if err := r.SetTrustedPaths("nope", nil); err == nil {
		t.Error("SetTrustedPaths of a missing account: no error")
	}
	if err := r.SetTrustedPaths("work", []string{"rel"}); err == nil {
		t.Error("SetTrustedPaths with a relative path: no error")
	}
}

func TestAddAllocatesPorts(t *testing.T) {
	d := testDirs(t)
	// Hold FirstPort, as a server of something else would.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(FirstPort))
	if err != nil {
		t.Logf("port %d is busy already: %v", FirstPort, err)
	} else {
		defer l.Close()
	}
	want := FirstPort + 1
	for !portFree(want) {
		want++
	}
	r, _ := Load(d)
	a, err := r.Add("one", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Port != want {
		t.Fatalf("allocated %d, want %d (with %d in use)", a.Port, want, FirstPort)
	}
	// The next one skips the port the registry has, though nothing listens.
	b, err := r.Add("two", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Port <= a.Port || b.Port == FirstPort {
		t.Fatalf("second port %d (first %d)", b.Port, a.Port)
	}
	// An explicit port is taken as given, even one in use now.
	c, err := r.Add("three", AddOptions{Port: FirstPort})
	if err != nil || c.Port != FirstPort {
		t.Fatalf("explicit port: %+v %v", c, err)
	}
}

const helperEnv = "OCA_TEST_ADD_ACCOUNT"

// TestMain doubles as the helper process of TestUpdateConcurrent: run with
// helperEnv set, the test binary adds that one account and exits.
func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		d, err := DirsFrom(os.Getenv)
		if err == nil {
			err = Update(d, func(r *Registry) error { _, err := r.Add(name, AddOptions{}); return err })
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(testsys.Main(m))
}

func TestUpdateConcurrent(t *testing.T) {
	d := testDirs(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("g%d", i)
			errs <- Update(d, func(r *Registry) error { _, err := r.Add(name, AddOptions{}); return err })
		})
		wg.Go(func() {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), helperEnv+"="+fmt.Sprintf("p%d", i), "HOME="+d.Home,
				"XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "XDG_STATE_HOME=")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("process p%d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	r, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ports := map[int]string{}
	for name, a := range r.Accounts {
		names = append(names, name)
		if other, dup := ports[a.Port]; dup {
			t.Errorf("port %d given to %s and %s", a.Port, other, name)
		}
		ports[a.Port] = name
	}
	sort.Strings(names)
	if len(names) != 2*n {
		t.Fatalf("accounts = %v, want %d", names, 2*n)
	}
	// No temporary file or half a file is left behind.
	entries, _ := os.ReadDir(d.Config)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestUpdateRefusesLooseConfigDir(t *testing.T) {
	d := testDirs(t)
	if err := os.MkdirAll(d.Config, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d.Config, 0o777); err != nil {
		t.Fatal(err)
	}
	err := Update(d, func(*Registry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("Update in a 0777 config dir: %v", err)
	}
	if _, err := os.Stat(d.AccountsFile()); !os.IsNotExist(err) {
		t.Fatal("wrote into a loose directory")
	}
}

func TestUpdateKeepsBrokenFile(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, "[accounts.a]\nport = oops\n")
	err := Update(d, func(r *Registry) error { _, err := r.Add("b", AddOptions{}); return err })
	var pe *projectfile.Error
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("Update over a broken file: %v", err)
	}
	data, _ := os.ReadFile(d.AccountsFile())
	if string(data) != "[accounts.a]\nport = oops\n" {
		t.Fatalf("broken file rewritten: %q", data)
	}
}

// TestLoadRefusesAFileOthersMayWrite: the accounts file says where
// credentials live, so one that others may write (or in a directory they
// may write) is refused, with the chmod that mends it.
func TestLoadRefusesAFileOthersMayWrite(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, "[accounts.work]\nport = 10001\n")
	if _, err := Load(d); err != nil {
		t.Fatalf("a private accounts file: %v", err)
	}
	for _, tc := range []struct {
		path string
		mode os.FileMode
		fix  string
	}{
		{d.AccountsFile(), 0o666, "chmod 600 " + d.AccountsFile()},
		{d.Config, 0o777, "chmod 700 " + d.Config},
	} {
		orig, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tc.path, tc.mode); err != nil {
			t.Fatal(err)
		}
		_, err = Load(d)
		if err == nil || !strings.Contains(err.Error(), "may be written by others") || !strings.Contains(err.Error(), tc.fix) {
			t.Errorf("%s at %04o: %v", tc.path, tc.mode, err)
		}
		if err := os.Chmod(tc.path, orig.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
