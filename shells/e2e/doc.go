// Package e2e holds the shells' end-to-end tests with the real OpenCode: a
// hooked shell entering a project starts its account's server (once, for
// twenty shells at once), the server stops after the last shell has left,
// and `opencode` in a project is a client of it (run, the TUI in tmux,
// the other commands), answered by a local fake provider. They run in a
// test binary of their own, beside the shells' quicker tests; `go test
// -short` skips them.
package e2e
