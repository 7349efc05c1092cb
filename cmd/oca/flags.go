package main

import (
	"flag"
	"io"
	"strings"
)

// newFlags makes a FlagSet that reports problems as usage errors.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args with fs, taking flags before and after positional
// arguments alike (`oca account add work --port 10002`). Everything after a
// "--" is returned as rest, untouched.
func (a *app) parse(fs *flag.FlagSet, args []string) (pos, rest []string, err error) {
	for i, arg := range args {
		if arg == "--" {
			args, rest = args[:i], args[i+1:]
			if rest == nil {
				rest = []string{}
			}
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				a.flagHelp(fs)
				return nil, nil, exitError(0)
			}
			return nil, nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, rest, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (a *app) flagHelp(fs *flag.FlagSet) {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	for _, c := range commands() {
		if c.name == strings.Fields(fs.Name())[0] {
			io.WriteString(a.stdout, "Usage: oca "+c.usage+"\n")
		}
	}
	if b.Len() > 0 {
		io.WriteString(a.stdout, "\nFlags:\n"+b.String())
	}
}
