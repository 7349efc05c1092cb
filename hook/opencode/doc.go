// Package opencode is OpenCode's server as oca talks to it: the one way to
// connect to it (Dial, which sends nothing to a socket that is not the
// user's), the routes oca uses (health, reload, busy sessions), and the
// error that names who holds an account's port. Every request that carries
// an account's password goes through a Client.
//
// It reads the kernel's view of sockets and processes through
// internal/procfs, and knows nothing of accounts, supervisors or shells.
package opencode
