// Package statedir is an account's state directory as the supervisor and
// the hook share it: the supervisor's lock (held by a supervisor for its
// life, probed by others: LockHeld, LockHolder, AcquireLock) and the
// shells' leases (AddLease, DropLease, LiveLeases). The hook takes a lease
// at every entry into a project, so this package links no network code:
// `oca-export` (cmd/oca-export) imports it, and not hook/supervisor.
package statedir
