// Package editors holds the end-to-end tests of OpenCode started where no
// hook runs, with the real OpenCode and the fake provider: a login
// profile's shims in a script (env -i, sh -c). Zed's `opencode acp` recipe
// is shells/e2e/acp's. A test binary of its own, so that no e2e
// package's binary runs for long; `go test -short` skips them.
package editors
