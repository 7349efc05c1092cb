package shim

import (
	"slices"
	"strings"
	"testing"
)

func TestMapV2(t *testing.T) {
	tui := func(args ...string) Plan { return Plan{Kind: Attach, Args: append(args, "--server", url)} }
	run := func(args ...string) Plan { return Plan{Kind: Run, Args: append(args, "--server", url)} }
	pass := func(args ...string) Plan { return Plan{Kind: PassThrough, Args: args} }
	service := func(sub string) Plan { return Plan{Kind: Service, Args: []string{sub}} }
	for _, tc := range []struct {
		args []string
		want Plan
	}{
		// The TUI, as a client of the server, any of its options.
		{nil, tui()},
		{[]string{"sub"}, tui("/p/sub")},
		{[]string{"."}, tui("/p")},
		{[]string{"-c", "-m", "a/b#high", "--prompt", "hi", "--auto", "sub"}, tui("-c", "-m", "a/b#high", "--prompt", "hi", "--auto", "/p/sub")},
		{[]string{"-s", "sub"}, tui("-s", "sub")},
		{[]string{"--", "sub"}, tui("--", "/p/sub")},
		// run prints the reply itself.
		{[]string{"run", "hi there"}, run("run", "hi there")},
		{[]string{"run", "-m", "a/b", "--format", "json", "fix"}, run("run", "-m", "a/b", "--format", "json", "fix")},
		// The user's own server, or help: theirs.
		{[]string{"--server", "http://elsewhere:1"}, pass("--server", "http://elsewhere:1")},
		{[]string{"run", "--server=http://elsewhere:1", "x"}, pass("run", "--server=http://elsewhere:1", "x")},
		{[]string{"--help"}, pass("--help")},
		{[]string{"run", "-h"}, pass("run", "-h")},
		{[]string{"--version"}, pass("--version")},
		// The background service is oca's.
		{[]string{"service", "start"}, service("start")},
		{[]string{"service", "stop"}, service("stop")},
		{[]string{"service", "restart"}, service("restart")},
		{[]string{"service", "status"}, service("status")},
		{[]string{"service", "set", "port", "1"}, pass("service", "set", "port", "1")},
		// Everything else: the real OpenCode, which finds the account's
		// server in its state home.
		{[]string{"auth", "list"}, pass("auth", "list")},
		{[]string{"acp"}, pass("acp")},
		{[]string{"reload"}, pass("reload")},
		{[]string{"run", "--", "--server", "x"}, run("run", "--", "--server", "x")},
	} {
		got := MapV2(Input{Args: tc.args, URL: url, Dir: "/p", IsDir: func(p string) bool { return dirs[p] }})
		if got.Kind != tc.want.Kind || !slices.Equal(got.Args, tc.want.Args) {
			t.Errorf("MapV2(%q) = %v %q, want %v %q", tc.args, got.Kind, got.Args, tc.want.Kind, tc.want.Args)
		}
	}
	alone := MapV2(Input{Args: []string{"--standalone"}, URL: url, Dir: "/p"})
	if alone.Kind != Standalone || !strings.Contains(alone.Note, "private server") {
		t.Errorf("MapV2(--standalone) = %+v", alone)
	}
}

func TestNeedsNoServer(t *testing.T) {
	for args, want := range map[string]bool{
		"--version": true, "-h": true, "run --help": true, "completion": true,
		"--server http://x:1": true, "run --server=http://x:1 hi": true, "run --attach http://x:1 hi": true,
		"": false, "run hi": false, "auth list": false, "models": false, "run -- --help": false, "sub completion": false,
	} {
		if got := NeedsNoServer(strings.Fields(args)); got != want {
			t.Errorf("NeedsNoServer(%q) = %v, want %v", args, got, want)
		}
	}
}
