// Package server runs and supervises one `opencode serve` per oca account,
// as DESIGN.md ("Servers") lays out. cmd/oca wires it: `oca serve ACCOUNT`
// calls Serve, the shell hook calls AddLease/DropLease and Ensure, `oca
// server stop|wait` and `oca status` call Stop, WaitReady, Health and
// ReadStatus.
//
// # API
//
//	type Config struct{ Account, Port, DataHome, Password, IdleTimeout, Opencode, StateDir, Env, Registered, tuning… }
//	func BuildEnv(base []string, cfg Config, extra map[string]string) []string
//	func Serve(ctx context.Context, cfg Config, logw io.Writer) error      // ErrAlreadyRunning when the lock is held
//	func Ensure(cfg Config, ocaBin string, args ...string) (started bool, err error)
//	func AddLease(stateDir string, pid int, root string) error
//	func DropLease(stateDir string, pid int) error
//	func ReadStatus(stateDir string) (Status, error)
//	func Stop(stateDir string, timeout time.Duration) error
//	func StopAndLock(stateDir string, timeout time.Duration) (unlock func(), err error)
//	func WaitReady(ctx context.Context, cfg Config) error
//	func Health(ctx context.Context, port int, password string) (bool, error)
//	func VerifyListener(port int) error                                      // nil, ErrNotListening, *PortInUseError
//	func ProcessRSS(pid int) (int64, error)
//
// # State directory
//
// Each account has a directory of oca's own (mode 0700), cfg.StateDir:
//
//	lock         flock held by the supervisor for its lifetime; holds its pid
//	status.json  the supervisor's Status, rewritten atomically at every phase change
//	serve.log    the detached supervisor's output (Ensure appends to it)
//	leases/      one empty file PID-STARTTIME per shell inside a project of the
//	             account (a hard link of its project's anchor, leases/.root-HASH or
//	             leases/.anchor: links are cheap, inodes not; an anchor is made by
//	             link(2), never replaced)
//	tmp/         OpenCode's TMPDIR
//
// # The supervisor (Serve)
//
// One per account, guaranteed by the lock: a second Serve returns
// ErrAlreadyRunning at once (after retrying for 300 ms, as probes hold the
// lock for microseconds); `oca serve` then exits 0 quietly when Health says
// the first one's server is healthy. With the lock taken it asks
// cfg.Registered, when set, and exits when the account is gone (`oca account
// remove` holds the lock while it removes: StopAndLock). It runs `opencode serve --hostname 127.0.0.1
// --port PORT` in its own process group, in StateDir, with the environment
// built by BuildEnv (never the starting shell's), and knows it is ready when
// GET /global/health, sent with basic auth (user "opencode", the account's
// password) within 200 ms, answers {"healthy":true}; the stdout line
// "opencode server listening on …" triggers an immediate probe. Phases:
// starting, ready, restarting, failing, stopping, stopped.
//
// When OpenCode dies it is restarted after a backoff (BackoffMin doubling
// up to BackoffMax; a run healthy for StableAfter resets it). MaxCrashes
// quick crashes within CrashWindow, or an OpenCode not healthy within
// ReadyTimeout that many times, end in phase "failing" with the reason and
// OpenCode's last output lines, and Serve returns an error. Before each
// start the port is bound once on 127.0.0.1 as a test; a port still held
// after 2 s by a process that is not the account's OpenCode fails with a
// *PortInUseError naming the port and, found through /proc/net/tcp{,6} and
// /proc/*/fd, the holder's pid, command and user.
//
// The password goes to the user's own server only (guard.go): every
// request that carries it (the readiness probe, POST /instance/dispose,
// Health, WaitReady) goes over a connection that, once made and before a
// byte is sent, is looked up in /proc/net/tcp{,6} (the server's side: local
// port PORT, remote our local address); its owner must be the user running
// oca, and for the supervisor every socket listening on the port for
// 127.0.0.1 must be among the descriptors of its OpenCode's process group.
// Anything else is a *PortInUseError: the probe stops OpenCode and the
// supervisor gives up (phase failing), WaitReady returns at once.
// VerifyListener checks the listener without connecting, for clients that
// connect by themselves (opencode attach). Without /proc/net/tcp nothing is
// checked (docs/design.md says what that leaves open). Stop does not wait
// for another user's listener to leave the port.
//
// Stopping (ctx done, idleness) sends SIGTERM to the process group, again
// after StopGrace, then SIGKILL after StopGrace more, and returns when no
// process of the group is left; then phase "stopped" and the lock is
// released.
//
// A supervisor killed hard (kill -9, OOM) leaves its OpenCode running and
// holding the port, but no longer the lock (OpenCode never inherits it).
// status.json records OpenCode's pid, start time and process group; the
// next supervisor finds that group and stops it with the same escalation
// before starting its own. Should the supervisor have died before writing
// that, the port's holder is recognised by its environment: an OpenCode
// leading its own group with the account's XDG_DATA_HOME and the TMPDIR
// only a supervisor sets (an OpenCode started by hand is named in the
// error, never killed). The orphan is stopped rather than adopted: a
// process that is not our child cannot be waited for, its output pipe is
// gone, and a restart costs a couple of seconds. Stop does the same when
// no supervisor is left. Until then ReadStatus reports the status as
// stale, with Orphan set.
//
// Idle shutdown: with IdleTimeout > 0 the supervisor stops once there has
// been no live lease and no established client connection to the port
// (/proc/net/tcp{,6}) whose client socket is the user's, for IdleTimeout
// (another user's connections do not count: establishedClients). Leases are watched with fsnotify and
// polled every PollInterval; a new lease counts as a use at once, and a
// lease whose process is gone (pid dead, or reused: the start time
// differs) is removed.
//
// Credentials and config: DataHome/opencode and Config.ConfigDir are
// watched; when auth.json or the config dir changes (after 200 ms of quiet,
// and only if the content differs from what the server has read) the
// supervisor sends POST /global/dispose, so the running server reads them
// anew without a restart: never for OpenCode's own OAuth token refresh, and
// only once no session is busy (at most Config.ReloadWait), so that no
// reply in progress is cut (see credsWatch). Neither the password nor
// any key is ever logged: OpenCode's output is redacted (the password,
// secret-looking values of the account's env table, sk-… keys, bearer
// tokens) before it reaches the log or status.json.
//
// # The hook's side
//
// Ensure costs one lock probe when the supervisor runs. When the lock is
// free it starts `ocaBin args…` detached (own session, stdin /dev/null,
// output appended to serve.log) and returns without waiting.
//
// # Wiring it (cmd/oca)
//
//   - `oca serve ACCOUNT`: ctx from signal.NotifyContext(SIGTERM, SIGINT);
//     Serve(ctx, cfg, os.Stderr). On ErrAlreadyRunning exit 0 quietly when
//     Health is true (or the status phase is starting), else say so.
//     testdata/ocaserve/main.go is a minimal version.
//   - the hook, entering a project of ACCOUNT: AddLease(stateDir,
//     shellPID) with the shell's pid (the hook process's parent), then, if
//     autostart, Ensure(cfg, ocaPath, "serve", ACCOUNT); leaving it:
//     DropLease(stateDir, shellPID). A shell that exits without leaving is
//     cleaned up by the supervisor.
//   - `oca server stop`: Stop(stateDir, 10*time.Second); `restart`: Stop,
//     then Ensure; `wait`: WaitReady; `status`: ReadStatus, plus
//     ProcessRSS(st.OpencodePID) for memory and VerifyListener for a
//     stranger on the port; `account remove`: StopAndLock, remove, unlock;
//     `serve`: cfg.Registered re-reads the registry.
//   - StateDir: one per account, e.g. $XDG_STATE_HOME/oca/servers/ACCOUNT,
//     taken from the environment before oca's own changes, never under a
//     data home oca exports. Leases and the lock are cheapest on a tmpfs
//     ($XDG_RUNTIME_DIR), where creating a file costs microseconds.
//   - cfg.Env: BuildEnv(os.Environ(), cfg, account.Env).
package server
