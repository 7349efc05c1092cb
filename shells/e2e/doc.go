// Package e2e holds the shells' end-to-end tests with the real OpenCode: a
// hooked shell entering a project starts its account's server (once, for
// twenty shells at once), the server stops after the last shell has left,
// and the TUI typed there attaches to it. They run in a test binary of
// their own, beside the shells' quicker tests; `go test -short` skips
// them. The TUI's and run's longer tests are in shells/e2e/tui.
package e2e
