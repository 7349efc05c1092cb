package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// commandList is the README's list of commands, written from the command
// tree: one entry per command that runs, with its arguments, its flags and
// its one-line description.
func commandList(root *cobra.Command) string {
	const col = 37
	var b strings.Builder
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			if sub.HasAvailableSubCommands() {
				walk(sub)
				continue
			}
			_, args, _ := strings.Cut(sub.Use, " ")
			args = strings.ReplaceAll(args, " [flags]", "")
			// Flags go before a "--" and what follows it.
			var dash string
			if i := strings.Index(args, "-- "); i >= 0 {
				if i > 0 && args[i-1] == '[' {
					i--
				}
				args, dash = strings.TrimSpace(args[:i]), " "+args[i:]
			}
			line := strings.TrimSpace(sub.CommandPath() + " " + args)
			sub.LocalFlags().VisitAll(func(f *pflag.Flag) {
				if f.Hidden || f.Name == "help" {
					return
				}
				flag := "--" + f.Name
				if f.Shorthand != "" {
					flag = "-" + f.Shorthand + "|" + flag
				}
				if name, _ := pflag.UnquoteUsage(f); name != "" {
					flag += " " + strings.ToUpper(name)
				}
				line += " [" + flag + "]"
			})
			line += dash
			if len(line) < col-1 {
				fmt.Fprintf(&b, "%-*s%s\n", col, line, sub.Short)
			} else {
				fmt.Fprintf(&b, "%s\n%-*s%s\n", line, col, "", sub.Short)
			}
		}
	}
	walk(root)
	return b.String()
}

// TestReadmeCommandList: the README's list of commands is the one the tree
// writes. With OCA_UPDATE_README=1 the test writes it into the README.
func TestReadmeCommandList(t *testing.T) {
	t.Parallel()
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	const head = "## Commands\n\n```\n"
	start := strings.Index(text, head)
	if start < 0 {
		t.Fatalf("README.md has no %q followed by a code block", "## Commands")
	}
	start += len(head)
	end := strings.Index(text[start:], "```\n")
	if end < 0 {
		t.Fatal("README.md: the list of commands does not end")
	}
	end += start
	want := commandList((&app{}).newRoot(nil))
	if got := text[start:end]; got != want {
		if os.Getenv("OCA_UPDATE_README") == "1" {
			if err := os.WriteFile(path, []byte(text[:start]+want+text[end:]), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote the list of commands into %s", path)
			return
		}
		t.Errorf("README.md's list of commands is not the command tree's; run: OCA_UPDATE_README=1 go test -run TestReadmeCommandList ./cmd/oca\n--- README\n%s--- tree\n%s", got, want)
	}
}
