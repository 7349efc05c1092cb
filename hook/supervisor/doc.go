// Package supervisor runs and supervises one `opencode serve` per oca
// account; docs/design.md ("The supervisor") tells why it is built so.
// cmd/oca wires it: `oca serve` calls Serve; entering a project takes a
// lease (hook/supervisor/statedir, which also holds the lock) and calls
// Ensure; `oca server`, `status`, `attach`, the `opencode` shim
// and `account remove` and `rename` call Stop, StopAndLock, ReadStatus and
// Clients; doctor asks SupervisorOf who runs an OpenCode on a port.
// (WaitReady is the supervisor's tests' wait; cmd/oca has one wait of its
// own for every command, with a progress line and the reasons it reads in
// the status.)
//
// Each account has a state directory of oca's own (0700,
// $XDG_STATE_HOME/oca/accounts/NAME):
//
//	lock         flock held by the supervisor for its lifetime
//	status.json  the supervisor's Status, written atomically at each phase change
//	serve.log    the supervisor's log and OpenCode's output, redacted (moved to
//	             serve.log.1 when over 1 MiB as a supervisor starts)
//	leases/      PID-STARTTIME, one per shell in a project of the account: a hard
//	             link of its project's anchor .root-HASH, made by link(2)
//	tmp/         OpenCode's TMPDIR
//	starting     "PID START" of the supervisor Ensure last started: until it
//	             holds the lock, Stop waits for it and ReadStatus calls it starting
//
// Serve holds the lock (a second Serve returns ErrAlreadyRunning; with
// Config.Current it exits once it holds the lock if the account is gone
// or changed, and stops when it says so later: asked when
// Config.AccountsFile changes and at each poll), runs
// OpenCode in its own process group with the environment
// BuildEnv makes, and is ready when the server says it is healthy (asked
// through hook/opencode, whose check lets the password reach only this
// run's own OpenCode). It restarts OpenCode with backoff and gives up into
// phase "failing" on a crash loop; it stops the whole group (SIGTERM, again,
// SIGKILL) on ctx or when idle: no live lease and no client of the user's
// for IdleTimeout, counted from the last use. A change of auth.json or the
// config dir is answered with a reload once no session is busy (never for
// OpenCode's own token refresh). With Config.ConfigDirCheck, a config dir
// that fails it (someone else could change it) keeps OpenCode from
// starting, or stops it, and Serve gives up into phase "failing".
//
// Ensure, the hook's call, costs one lock probe when a supervisor runs and
// otherwise starts one detached without waiting.
package supervisor
