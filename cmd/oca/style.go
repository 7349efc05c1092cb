package main

import (
	"os"
)

// style colours output only on a terminal, and never with NO_COLOR set.
type style struct{ on bool }

func (a *app) style() style {
	f, ok := a.stdout.(*os.File)
	if !ok {
		return style{}
	}
	for _, kv := range a.env {
		if len(kv) > len("NO_COLOR=") && kv[:len("NO_COLOR=")] == "NO_COLOR=" {
			return style{}
		}
	}
	fi, err := f.Stat()
	return style{on: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}

func (s style) paint(code, text string) string {
	if !s.on {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) red(t string) string    { return s.paint("31", t) }
func (s style) green(t string) string  { return s.paint("32", t) }
func (s style) yellow(t string) string { return s.paint("33", t) }
