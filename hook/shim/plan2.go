package shim

import "strings"

// OpenCode 2's command line, as its documentation gives it
// (https://opencode.ai/docs/cli/commands): no attach; the TUI (`opencode
// [directory]`) and `run` take `--server URL` (its password from
// OPENCODE_PASSWORD) or `--standalone` (a private server), and print the
// reply themselves; `service start|stop|restart|status` manage the
// user's one background server, which clients otherwise find through
// $XDG_STATE_HOME/opencode.

// Service is the kind of a plan for `opencode service start|stop|restart|
// status`: oca's server command of the same name for the account (Args
// holds it), since oca runs the account's server.
const Service Kind = PassThrough + 1

// MapV2 decides what `opencode ARGS` of OpenCode 2 does in a bound project:
// the TUI and run take `--server URL` (the caller puts its proxy's URL in
// URL's place); `service start|stop|restart|status` are oca's; with a
// server of the user's (`--server`) the command is theirs, and
// `--standalone` (a private server on the account's data home) runs as
// asked, with a note; everything else is the real OpenCode, which finds
// the account's server itself.
func MapV2(in Input) Plan {
	args := in.Args
	pass := Plan{Kind: PassThrough, Args: args}
	for _, a := range args {
		if a == "--" {
			break
		}
		switch name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "="); {
		case a == "-h" || a == "-v" || a == "--help" || a == "--version":
			return pass
		case strings.HasPrefix(a, "--") && name == "server":
			return pass // the user names a server: theirs
		case a == "--standalone":
			return Plan{Kind: Standalone, Args: args, Note: "opencode --standalone: a private server of its own, on the account's data home"}
		}
	}
	cmd, at := firstWordV2(args)
	switch cmd {
	case "":
		return Plan{Kind: Attach, Args: append(absDirs(in, args), "--server", in.URL)}
	case "run":
		return Plan{Kind: Run, Args: append(append([]string{}, args...), "--server", in.URL)}
	case "service":
		if at+1 < len(args) {
			switch sub := args[at+1]; sub {
			case "start", "stop", "restart", "status":
				return Plan{Kind: Service, Args: []string{sub}}
			}
		}
		return pass
	}
	if in.IsDir != nil && in.IsDir(abs(in.Dir, cmd)) {
		return Plan{Kind: Attach, Args: append(absDirs(in, args), "--server", in.URL)}
	}
	return pass
}

// firstWordV2 is the first argument that is not an option or an option's
// value: the subcommand, or the TUI's directory.
func firstWordV2(args []string) (string, int) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return "", -1
		case strings.HasPrefix(a, "-"):
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && v2ValueFlags[name] && i+1 < len(args) {
				i++
			}
		default:
			return a, i
		}
	}
	return "", -1
}

// v2ValueFlags are the TUI's options that take a value.
var v2ValueFlags = map[string]bool{"s": true, "session": true, "m": true, "model": true, "prompt": true, "agent": true, "log-level": true}

// absDirs is args with the TUI's directory made absolute: the server, not
// the client, opens it.
func absDirs(in Input, args []string) []string {
	out := append([]string{}, args...)
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			for j := i + 1; j < len(out); j++ {
				out[j] = abs(in.Dir, out[j])
			}
			return out
		case strings.HasPrefix(a, "-"):
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && v2ValueFlags[name] && i+1 < len(out) {
				i++
			}
		default:
			out[i] = abs(in.Dir, a)
		}
	}
	return out
}

// NeedsNoServer tells whether a command line needs neither the account's
// server nor its database: help, the version or completion, which the real
// OpenCode answers about itself, or a server the user names (`--server
// URL`, `run --attach URL`). The shim runs these at once, as they are.
func NeedsNoServer(args []string) bool {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case a == "-h" || a == "-v" || a == "--help" || a == "--version":
			return true
		case strings.HasPrefix(a, "--") && (name == "server" || name == "attach"):
			return true
		case i == 0 && a == "completion":
			return true
		}
	}
	return false
}
