package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oca-sh/oca/shells"
)

// Argument kinds that completion knows how to fill.
const (
	argShell   = "shell"   // bash, zsh, fish
	argFormat  = "format"  // bash, zsh, fish, json
	argAccount = "account" // an account name
	argPath    = "path"    // a file or directory
	argDir     = "dir"     // a directory
)

// spec is what may follow a command word: subcommands, or positional
// arguments of some kinds (the last kind repeats when more is true), and
// flags.
type spec struct {
	subs  map[string]spec
	args  []string
	more  bool
	flags []string
}

// completionSpec describes every command for `oca __complete`.
func completionSpec() spec {
	return spec{subs: map[string]spec{
		"hook":       {args: []string{argShell}},
		"export":     {args: []string{argFormat}, flags: []string{"--pid"}},
		"init":       {args: []string{argAccount}, flags: []string{"--force"}},
		"allow":      {args: []string{argPath}},
		"deny":       {args: []string{argPath}},
		"exec":       {args: []string{argAccount}},
		"version":    {},
		"help":       {},
		"completion": {args: []string{argShell}},
		"doctor":     {flags: []string{"--json", "--fix"}},
		"compose":    {args: []string{argAccount}, more: true, flags: []string{"--image"}},
		"login":      {args: []string{argAccount}},
		"logout":     {args: []string{argAccount}},
		"status":     {args: []string{argAccount}, more: true, flags: []string{"--json"}},
		"serve":      {args: []string{argAccount}},
		"attach":     {args: []string{argAccount}, flags: []string{"--timeout"}},
		"server": {subs: map[string]spec{
			"start":   {args: []string{argAccount}},
			"stop":    {args: []string{argAccount}, flags: []string{"--timeout"}},
			"restart": {args: []string{argAccount}, flags: []string{"--timeout"}},
			"wait":    {args: []string{argAccount}, flags: []string{"--timeout"}},
			"logs":    {args: []string{argAccount}, flags: []string{"-f", "-n"}},
		}},
		"systemd": {subs: map[string]spec{
			"install":   {args: []string{argAccount}},
			"uninstall": {args: []string{argAccount}},
			"print":     {},
		}},
		"account": {subs: map[string]spec{
			"add":    {flags: []string{"--port", "--data-home", "--config-dir", "--idle-timeout"}},
			"list":   {flags: []string{"--json", "--quiet"}},
			"show":   {args: []string{argAccount}, flags: []string{"--json"}},
			"remove": {args: []string{argAccount}, flags: []string{"--purge"}},
			"import": {args: []string{argDir}, more: true},
		}},
	}}
}

// cmdComplete prints the candidates for the last of args (the word being
// typed, possibly empty), one per line. The completion scripts call it.
func (a *app) cmdComplete(args []string) error {
	if len(args) == 0 {
		args = []string{""}
	}
	words, cur := args[:len(args)-1], args[len(args)-1]
	s := completionSpec()
	pos := 0
	for i, w := range words {
		if w == "--" {
			return nil // a command line of its own: the shell's default completion
		}
		if strings.HasPrefix(w, "-") {
			continue
		}
		if sub, ok := s.subs[w]; ok && pos == 0 {
			s = sub
			continue
		}
		_ = i
		pos++
	}
	var cands []string
	switch {
	case strings.HasPrefix(cur, "-"):
		cands = s.flags
	case s.subs != nil && pos == 0:
		for name := range s.subs {
			cands = append(cands, name)
		}
	case pos < len(s.args) || s.more && len(s.args) > 0:
		kind := s.args[len(s.args)-1]
		if pos < len(s.args) {
			kind = s.args[pos]
		}
		cands = a.candidates(kind, cur)
	}
	sort.Strings(cands)
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			fmt.Fprintln(a.stdout, c)
		}
	}
	return nil
}

func (a *app) candidates(kind, cur string) []string {
	switch kind {
	case argShell:
		return shells.Names()
	case argFormat:
		return append(shells.Names(), "json")
	case argAccount:
		reg, err := a.registry()
		if err != nil {
			return nil
		}
		return reg.Names()
	case argPath, argDir:
		return a.paths(cur, kind == argDir)
	}
	return nil
}

// paths lists the entries that complete cur, directories with a trailing
// slash, relative to the working directory as typed.
func (a *app) paths(cur string, dirsOnly bool) []string {
	dir, prefix := filepath.Split(cur)
	look := dir
	if look == "" {
		look = "."
	}
	if !filepath.IsAbs(look) {
		look = filepath.Join(a.wd, look)
	}
	entries, err := os.ReadDir(look)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || strings.HasPrefix(name, ".") && !strings.HasPrefix(prefix, ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(look, name)); err == nil {
				isDir = fi.IsDir()
			}
		}
		switch {
		case isDir:
			out = append(out, dir+name+"/")
		case !dirsOnly:
			out = append(out, dir+name)
		}
	}
	return out
}

func (a *app) cmdCompletion(args []string) error {
	pos, _, err := a.parse(newFlags("completion"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: oca completion bash|zsh|fish")
	}
	sh, err := shells.Get(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	script, err := sh.Completion(a.self)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, script)
	return err
}
