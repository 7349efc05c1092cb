package shim

import (
	"slices"
	"strings"
	"testing"
)

const url = "http://127.0.0.1:10001"

// dirs are the directories the tests' IsDir knows.
var dirs = map[string]bool{"/p": true, "/p/sub": true, "/other": true, "/p/run": false}

func TestMap(t *testing.T) {
	attach := func(dir string, flags ...string) Plan {
		return Plan{Kind: Attach, Args: append([]string{"attach", url, "--dir", dir}, flags...)}
	}
	run := func(args ...string) Plan { return Plan{Kind: Run, Args: args} }
	pass := func(args ...string) Plan { return Plan{Kind: PassThrough, Args: args} }
	alone := func(flag string, args ...string) Plan { return Plan{Kind: Standalone, Args: args, Note: flag} }
	for _, tc := range []struct {
		args []string
		want Plan
	}{
		// The TUI: attach, here or in the directory named.
		{nil, attach("/p")},
		{[]string{"."}, attach("/p")},
		{[]string{"sub"}, attach("/p/sub")},
		{[]string{"/other"}, attach("/other")},
		{[]string{"../other"}, attach("/other")},
		{[]string{"--", "sub"}, attach("/p/sub")},
		// Every option attach takes, in each spelling, passed on.
		{[]string{"-c"}, attach("/p", "-c")},
		{[]string{"--continue", "sub"}, attach("/p/sub", "--continue")},
		{[]string{"-c", "sub"}, attach("/p/sub", "-c")},
		{[]string{"-s", "ses_1"}, attach("/p", "-s", "ses_1")},
		{[]string{"--session", "ses_1", "sub"}, attach("/p/sub", "--session", "ses_1")},
		{[]string{"--session=ses_1"}, attach("/p", "--session=ses_1")},
		{[]string{"-cs", "ses_1"}, attach("/p", "-cs", "ses_1")},
		{[]string{"--fork", "-c"}, attach("/p", "--fork", "-c")},
		{[]string{"--mini", "--no-replay", "--replay-limit", "20"}, attach("/p", "--mini", "--no-replay", "--replay-limit", "20")},
		{[]string{"--print-logs", "--log-level", "DEBUG", "--pure"}, attach("/p", "--print-logs", "--log-level", "DEBUG", "--pure")},
		{[]string{"--logLevel=WARN", "--printLogs"}, attach("/p", "--logLevel=WARN", "--printLogs")},
		{[]string{"--continue", "true", "sub"}, attach("/p/sub", "--continue", "true")},
		{[]string{"--no-mini"}, attach("/p", "--no-mini")},
		// The value of an option is not a directory.
		{[]string{"-s", "sub"}, attach("/p", "-s", "sub")},
		{[]string{"--log-level", "INFO", "sub"}, attach("/p/sub", "--log-level", "INFO")},

		// run: through the server, every run option passed on.
		{[]string{"run", "hi there"}, run("run", "--attach", url, "--dir", "/p", "hi there")},
		{[]string{"run"}, run("run", "--attach", url, "--dir", "/p")},
		{[]string{"run", "-m", "a/b", "--agent", "plan", "-c", "--format", "json", "fix", "it"},
			run("run", "--attach", url, "--dir", "/p", "-m", "a/b", "--agent", "plan", "-c", "--format", "json", "fix", "it")},
		{[]string{"--print-logs", "run", "x"}, run("--print-logs", "run", "--attach", url, "--dir", "/p", "x")},
		{[]string{"--log-level", "DEBUG", "run", "x"}, run("--log-level", "DEBUG", "run", "--attach", url, "--dir", "/p", "x")},
		{[]string{"run", "--dir", "sub", "x"}, run("run", "--attach", url, "--dir", "/p/sub", "x")},
		{[]string{"run", "--dir=/other", "x"}, run("run", "--attach", url, "--dir=/other", "x")},
		{[]string{"run", "x", "--", "--dir", "y"}, run("run", "--attach", url, "--dir", "/p", "x", "--", "--dir", "y")},
		{[]string{"run", "--port", "4000", "x"}, run("run", "--attach", url, "--dir", "/p", "--port", "4000", "x")},
		// run with a server of the user's choosing, or asking for help: theirs.
		{[]string{"run", "--attach", "http://elsewhere:1", "x"}, pass("run", "--attach", "http://elsewhere:1", "x")},
		{[]string{"run", "--attach=http://elsewhere:1"}, pass("run", "--attach=http://elsewhere:1")},
		{[]string{"run", "--help"}, pass("run", "--help")},
		{[]string{"run", "-h"}, pass("run", "-h")},

		// Options attach lacks: the real OpenCode, with its own server.
		{[]string{"-m", "a/b"}, alone("opencode -m: attach has no such option", "-m", "a/b")},
		{[]string{"--model=a/b", "sub"}, alone("opencode --model: attach has no such option", "--model=a/b", "sub")},
		{[]string{"-cm", "a/b"}, alone("opencode -m: attach has no such option", "-cm", "a/b")},
		{[]string{"--prompt", "hi"}, alone("opencode --prompt: attach has no such option", "--prompt", "hi")},
		{[]string{"--agent", "plan"}, alone("opencode --agent: attach has no such option", "--agent", "plan")},
		{[]string{"--auto"}, alone("opencode --auto: attach has no such option", "--auto")},
		{[]string{"--port", "4096"}, alone("opencode --port: attach has no such option", "--port", "4096")},
		{[]string{"--hostname", "0.0.0.0"}, alone("opencode --hostname: attach has no such option", "--hostname", "0.0.0.0")},
		{[]string{"--mdns"}, alone("opencode --mdns: attach has no such option", "--mdns")},
		{[]string{"--mdns-domain", "x.local"}, alone("opencode --mdns-domain: attach has no such option", "--mdns-domain", "x.local")},
		{[]string{"--cors", "http://a"}, alone("opencode --cors: attach has no such option", "--cors", "http://a")},
		{[]string{"--frobnicate"}, alone("opencode --frobnicate: not an option attach knows", "--frobnicate")},
		{[]string{"-x"}, alone("opencode -x: not an option attach knows", "-x")},
		{[]string{"sub", "/other"}, alone("opencode /other: attach takes one directory", "sub", "/other")},

		// Everything else: the real OpenCode, unchanged.
		{[]string{"--version"}, pass("--version")},
		{[]string{"-v"}, pass("-v")},
		{[]string{"--help"}, pass("--help")},
		{[]string{"-c", "-h"}, pass("-c", "-h")},
		{[]string{"auth", "list"}, pass("auth", "list")},
		{[]string{"providers", "login"}, pass("providers", "login")},
		{[]string{"models"}, pass("models")},
		{[]string{"session", "list"}, pass("session", "list")},
		{[]string{"stats"}, pass("stats")},
		{[]string{"export", "ses_1"}, pass("export", "ses_1")},
		{[]string{"import", "f.json"}, pass("import", "f.json")},
		{[]string{"mcp", "list"}, pass("mcp", "list")},
		{[]string{"agent", "list"}, pass("agent", "list")},
		{[]string{"db"}, pass("db")},
		{[]string{"debug", "config"}, pass("debug", "config")},
		{[]string{"serve", "--port", "1"}, pass("serve", "--port", "1")},
		{[]string{"web"}, pass("web")},
		{[]string{"upgrade"}, pass("upgrade")},
		{[]string{"attach", "http://x:1"}, pass("attach", "http://x:1")},
		{[]string{"--print-logs", "models"}, pass("--print-logs", "models")},
		// A word that is no directory: perhaps a newer subcommand.
		{[]string{"frob"}, pass("frob")},
	} {
		got := Map(Input{Args: tc.args, URL: url, Dir: "/p", IsDir: func(p string) bool { return dirs[p] }})
		want := tc.want
		if want.Kind == Standalone {
			if !strings.HasPrefix(got.Note, want.Note+"; ") || !strings.Contains(got.Note, "server of its own") {
				t.Errorf("Map(%q) note = %q, want it to start %q and say it runs a server of its own", tc.args, got.Note, want.Note)
			}
			got.Note, want.Note = "", ""
		}
		if want.Args == nil {
			want.Args = []string{}
		}
		if got.Args == nil {
			got.Args = []string{}
		}
		if got.Kind != want.Kind || !slices.Equal(got.Args, want.Args) || got.Note != want.Note {
			t.Errorf("Map(%q) =\n  %v %q %q\nwant\n  %v %q", tc.args, got.Kind, got.Args, got.Note, want.Kind, want.Args)
		}
	}
}

// The arguments are never changed in place: the shim execs with them.
func TestMapKeepsItsInput(t *testing.T) {
	args := []string{"run", "--dir", "sub", "x"}
	Map(Input{Args: args, URL: url, Dir: "/p"})
	if !slices.Equal(args, []string{"run", "--dir", "sub", "x"}) {
		t.Errorf("args changed: %q", args)
	}
}

// FuzzMap: any command line gives a plan without a panic; an attach plan
// always starts with attach URL --dir and an absolute directory, a run plan
// always carries --attach URL, and the other plans keep the arguments as
// given.
func FuzzMap(f *testing.F) {
	for _, s := range []string{"", "run\x00hi", "-cs\x00x", "--model=a", "--\x00sub", "sub\x00-c", "-", "--no-", "-s", "run\x00--dir", "--=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		p := Map(Input{Args: args, URL: url, Dir: "/p", IsDir: func(p string) bool { return dirs[p] }})
		switch p.Kind {
		case Attach:
			if len(p.Args) < 4 || p.Args[0] != "attach" || p.Args[1] != url || p.Args[2] != "--dir" || !strings.HasPrefix(p.Args[3], "/") {
				t.Fatalf("Map(%q) = %q", args, p.Args)
			}
		case Run:
			i := slices.Index(p.Args, "--attach")
			if i < 0 || i+1 >= len(p.Args) || p.Args[i+1] != url {
				t.Fatalf("Map(%q) = %q", args, p.Args)
			}
		default:
			if !slices.Equal(p.Args, args) {
				t.Fatalf("Map(%q) changed the arguments: %q", args, p.Args)
			}
		}
		// OpenCode 2's: a client of the server is given it last, once;
		// the service is oca's; the rest as typed.
		p = MapV2(Input{Args: args, URL: url, Dir: "/p", IsDir: func(p string) bool { return dirs[p] }})
		switch p.Kind {
		case Attach, Run:
			if n := len(p.Args); n < 2 || p.Args[n-2] != "--server" || p.Args[n-1] != url || len(p.Args) != len(args)+2 {
				t.Fatalf("MapV2(%q) = %q", args, p.Args)
			}
		case Service:
			if len(p.Args) != 1 || !slices.Contains([]string{"start", "stop", "restart", "status"}, p.Args[0]) {
				t.Fatalf("MapV2(%q) = service %q", args, p.Args)
			}
		default:
			if !slices.Equal(p.Args, args) {
				t.Fatalf("MapV2(%q) changed the arguments: %q", args, p.Args)
			}
		}
	})
}
