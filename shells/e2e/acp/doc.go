// Package acp holds the end-to-end test of the README's Zed recipe: an
// agent server, `opencode acp`, through oca's shim or `oca exec`, started
// as Zed starts it (from the Dock: no hook), spoken to in ACP, with the
// real OpenCode answering from the fake provider. A test binary of its own,
// beside shells/e2e/editors (with it, one binary neared go test's 10
// minutes on a loaded machine); `go test -short` skips it.
package acp
