// Package e2e holds oca's end-to-end tests that need more of the machine
// than its shells, each with the real OpenCode: what `oca compose` writes,
// run by docker-compose on a Docker engine, and oca's unit under a real
// systemd user manager. They run in a test binary of their own, beside
// cmd/oca's quicker tests; `go test -short` skips them.
package e2e
