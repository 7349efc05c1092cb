// Package server runs and supervises one `opencode serve` per oca account;
// docs/design.md ("The supervisor") tells why it is built so. cmd/oca wires
// it: `oca serve` calls Serve; the hook calls AddLease, DropLease and
// Ensure; `oca server`, `status`, `attach`, the `opencode` shim and
// `account remove` call Stop, StopAndLock, WaitReady, Health,
// VerifyListener, ReadStatus and Clients.
//
// Each account has a state directory of oca's own (0700,
// $XDG_STATE_HOME/oca/accounts/NAME):
//
//	lock         flock held by the supervisor for its lifetime
//	status.json  the supervisor's Status, written atomically at each phase change
//	serve.log    the supervisor's log and OpenCode's output, redacted (rotated at 1 MiB)
//	leases/      PID-STARTTIME, one per shell in a project of the account: a hard
//	             link of its project's anchor .root-HASH, made by link(2)
//	tmp/         OpenCode's TMPDIR
//
// Serve holds the lock (a second Serve returns ErrAlreadyRunning; with
// Config.Registered it exits once it holds the lock if the account is
// gone), runs OpenCode in its own process group with the environment
// BuildEnv makes, and is ready when GET /global/health answers
// {"healthy":true}. It restarts OpenCode with backoff and gives up into
// phase "failing" on a crash loop; it stops the whole group (SIGTERM, again,
// SIGKILL) on ctx or when idle: no live lease and no client of the user's
// for IdleTimeout, counted from the last use. A change of auth.json or the
// config dir is answered with POST /global/dispose once no session is busy
// (never for OpenCode's own token refresh). With Config.ConfigDirCheck, a
// config dir that fails it (someone else could change it) keeps OpenCode
// from starting, or stops it, and Serve gives up into phase "failing".
//
// Every request that carries the password goes over a connection checked
// in /proc/net/tcp{,6} before a byte is sent (guard.go): the server's side
// must be the user's socket and, for the supervisor, its own OpenCode's.
// Anything else is a *PortInUseError naming the holder.
//
// Ensure, the hook's call, costs one lock probe when a supervisor runs and
// otherwise starts one detached without waiting.
package server
