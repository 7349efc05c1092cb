// Package tui holds the end-to-end tests of `opencode` typed in hooked
// shells with the real OpenCode, its TUI run in tmux: run and the TUI on
// the account's server, answered by a local fake provider, and the TUI
// through oca's proxy while the server dies and another user squats its
// port. A test binary of its own (they took half of shells/e2e's time,
// which a loaded machine pushed past go test's 10 minutes); `go test
// -short` skips them.
package tui
