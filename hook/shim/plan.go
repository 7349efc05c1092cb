// Package shim is what oca's own `opencode` does: inside a bound project the
// first `opencode` on PATH is a link to oca, which maps OpenCode's command
// line onto the account's server. Map is pure (arguments in, a plan out);
// path.go keeps the shim directory and PATH's entry for it.
package shim

import (
	"path/filepath"
	"strings"
)

// Kind is what the shim does with a command line.
type Kind int

const (
	// Attach: the TUI, as a client of the account's server:
	// opencode attach URL --dir DIR FLAGS...
	Attach Kind = iota
	// Run: opencode run --attach URL --dir DIR ARGS...
	Run
	// Standalone: the real OpenCode as asked, with its own server, because
	// the command line has something attach cannot do; Note says what.
	Standalone
	// PassThrough: the real OpenCode as asked (another subcommand, --help,
	// --version).
	PassThrough
)

func (k Kind) String() string {
	switch k {
	case Attach:
		return "attach"
	case Run:
		return "run"
	case Standalone:
		return "standalone"
	case PassThrough:
		return "pass-through"
	case Service:
		return "service"
	}
	return "unknown"
}

// Plan is what to run: the real OpenCode with Args (without argv[0]).
type Plan struct {
	Kind Kind
	Args []string
	Note string // Standalone: one line for stderr, without "oca: "
}

// Input is what Map works from.
type Input struct {
	Args []string // the command line after "opencode"
	URL  string   // the account's server, http://127.0.0.1:PORT
	Dir  string   // the working directory, absolute
	// IsDir tells whether a path (absolute) is a directory: a first word
	// that is neither a subcommand nor a directory goes to the real
	// OpenCode unchanged, so that a subcommand newer than this list still
	// works.
	IsDir func(string) bool
}

// flagSpec is one of OpenCode's options as the TUI (the default command) takes
// it, in OpenCode 1.18.
type flagSpec struct {
	value  bool // takes a value
	attach bool // `opencode attach` takes it too
	exit   bool // --help, --version: the real OpenCode answers
}

// tuiFlags are the default command's options (opencode --help), long names.
var tuiFlags = map[string]flagSpec{
	"help":         {exit: true},
	"version":      {exit: true},
	"print-logs":   {attach: true},
	"log-level":    {value: true, attach: true},
	"pure":         {attach: true},
	"continue":     {attach: true},
	"session":      {value: true, attach: true},
	"fork":         {attach: true},
	"mini":         {attach: true},
	"no-replay":    {attach: true},
	"replay-limit": {value: true, attach: true},
	// The TUI's own server and what attach lacks.
	"port":        {value: true},
	"hostname":    {value: true},
	"mdns":        {},
	"mdns-domain": {value: true},
	"cors":        {value: true},
	"model":       {value: true},
	"prompt":      {value: true},
	"agent":       {value: true},
	"auto":        {},
}

// shortFlags are the one-letter aliases.
var shortFlags = map[byte]string{'h': "help", 'v': "version", 'c': "continue", 's': "session", 'm': "model"}

// subcommands are OpenCode 1.18's commands other than the default (the TUI).
var subcommands = map[string]bool{
	"completion": true, "acp": true, "mcp": true, "attach": true, "run": true, "debug": true,
	"providers": true, "auth": true, "agent": true, "upgrade": true, "uninstall": true,
	"serve": true, "web": true, "models": true, "stats": true, "export": true, "import": true,
	"github": true, "pr": true, "session": true, "plugin": true, "plug": true, "db": true,
}

// Map decides what `opencode ARGS` does in a bound project.
func Map(in Input) Plan {
	args := in.Args
	pass := Plan{Kind: PassThrough, Args: args}
	cmd, at := firstWord(args)
	if cmd != "" && subcommands[cmd] {
		if cmd != "run" {
			return pass
		}
		return mapRun(in, at)
	}
	// The TUI: every option must be one attach takes.
	dir := in.Dir
	var flags []string
	seenDir := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			// Everything after is a positional.
			for _, p := range args[i+1:] {
				if seenDir {
					return standalone(args, "opencode "+p+": attach takes one directory")
				}
				seenDir, dir = true, abs(in.Dir, p)
			}
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			name = kebab(name)
			spec, known := tuiFlags[name]
			if !known && strings.HasPrefix(name, "no-") {
				spec, known = tuiFlags[name[3:]]
				spec.value = false
			}
			switch {
			case spec.exit:
				return pass
			case !known:
				return standalone(args, "opencode --"+name+": not an option attach knows")
			case !spec.attach:
				return standalone(args, "opencode --"+name+": attach has no such option")
			}
			flags = append(flags, a)
			if spec.value && !hasValue && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			} else if !spec.value && !hasValue && i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
				i++
				flags = append(flags, args[i])
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			for j := 1; j < len(a); j++ {
				name, ok := shortFlags[a[j]]
				spec := tuiFlags[name]
				switch {
				case spec.exit:
					return pass
				case !ok:
					return standalone(args, "opencode -"+string(a[j])+": not an option attach knows")
				case !spec.attach:
					return standalone(args, "opencode -"+string(a[j])+": attach has no such option")
				}
				if spec.value {
					if j == len(a)-1 && i+1 < len(args) {
						i++
						flags = append(flags, args[i])
					}
					break
				}
			}
		default:
			if seenDir {
				return standalone(args, "opencode "+a+": attach takes one directory")
			}
			p := abs(in.Dir, a)
			if in.IsDir != nil && !in.IsDir(p) {
				// Not a directory: perhaps a subcommand this list does
				// not know; the real OpenCode says what it is.
				return pass
			}
			seenDir, dir = true, p
		}
	}
	return Plan{Kind: Attach, Args: append(AttachArgs(in.URL, dir), flags...)}
}

// AttachArgs are the arguments of `opencode attach` to the server at url,
// in dir: what both the shim and `oca attach` run.
func AttachArgs(url, dir string) []string {
	return []string{"attach", url, "--dir", dir}
}

// mapRun maps `opencode ... run ARGS` (run at args[at]).
func mapRun(in Input, at int) Plan {
	args := in.Args
	userDir := -1
	for i := range args {
		a := args[i]
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case a == "-h" || a == "-v" || strings.HasPrefix(a, "--") && (kebab(name) == "help" || kebab(name) == "version"):
			return Plan{Kind: PassThrough, Args: args}
		case strings.HasPrefix(a, "--") && kebab(name) == "attach":
			// The user names a server: theirs.
			return Plan{Kind: PassThrough, Args: args}
		case i > at && strings.HasPrefix(a, "--") && kebab(name) == "dir":
			userDir = i
		}
	}
	out := append([]string{}, args[:at+1]...)
	out = append(out, "--attach", in.URL)
	if userDir < 0 {
		out = append(out, "--dir", in.Dir)
	}
	for i := at + 1; i < len(args); i++ {
		a := args[i]
		if i != userDir {
			out = append(out, a)
			continue
		}
		// The server resolves a relative --dir against its own
		// directory: make it absolute here.
		if _, v, ok := strings.Cut(a, "="); ok {
			out = append(out, "--dir="+abs(in.Dir, v))
		} else if i+1 < len(args) {
			out = append(out, a, abs(in.Dir, args[i+1]))
			i++
		} else {
			out = append(out, a)
		}
	}
	return Plan{Kind: Run, Args: out}
}

// firstWord finds the first positional argument, skipping the options of
// the default command and their values, and returns it with its index ("",
// -1 when there is none).
func firstWord(args []string) (string, int) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return "", -1 // what follows is a directory, however it is spelt
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			spec, known := tuiFlags[kebab(name)]
			// OpenCode's parser gives an unknown option the next word as
			// its value, unless it looks like an option.
			if !hasValue && (known && spec.value || !known) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			last := tuiFlags[shortFlags[a[len(a)-1]]]
			if last.value && i+1 < len(args) {
				i++
			}
		default:
			return a, i
		}
	}
	return "", -1
}

func standalone(args []string, why string) Plan {
	return Plan{Kind: Standalone, Args: args, Note: why + "; running OpenCode on its own, with a server of its own (OCA_ATTACH=0 says so for good)"}
}

// kebab turns OpenCode's camelCase spelling of an option (logLevel) into
// the kebab-case one (log-level); both are accepted.
func kebab(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('-')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
