package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"

	"github.com/fsnotify/fsnotify"
)

// lockWait is how long Serve retries a busy lock: probes by Ensure and Stop
// hold it for microseconds, a running supervisor for its lifetime.
const lockWait = 300 * time.Millisecond

// supervisor is the state of one Serve call. Only Serve's goroutine touches
// it, except out (fed by the output readers) and log (safe for concurrent use).
type supervisor struct {
	cfg     Config
	env     []string
	log     *log.Logger
	red     redactor
	out     outputRing
	st      Status
	idle    *idleTracker
	creds   *credsWatch
	watcher *fsnotify.Watcher

	ver     opencode.Version // the OpenCode of the current run
	backoff time.Duration
	crashes []time.Time // quick crashes in a row, for crash-loop detection
	unsafe  error       // why the config dir is refused (evUnsafe)
	gone    string      // why the account is no longer the one served (evGone)
	quiet   string      // OpenCode's working directory (quietDir)
	unsure  string      // the last error of Config.Current, logged once
	// accounts fires when the accounts file has settled after a change.
	accounts *time.Timer
}

// accountsSettle is how long the accounts file must be left alone after a
// change before Config.Current is asked: an editor that writes in place
// truncates it first, and an empty file names no account.
const accountsSettle = 250 * time.Millisecond

// Serve runs the account's supervisor in the foreground until ctx is done,
// the server has been idle for cfg.IdleTimeout, or OpenCode crash-loops.
// See the package documentation for what it does. It returns
// ErrAlreadyRunning at once when another supervisor holds the account's
// lock, nil after a stop on ctx or idleness, and an error after giving up
// (phase "failing"). logw receives the supervisor's log (nil: discarded).
func Serve(ctx context.Context, cfg Config, logw io.Writer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if logw == nil {
		logw = io.Discard
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("serve %s: %w", cfg.Account, err)
	}
	lock, err := statedir.AcquireLock(cfg.StateDir, lockWait)
	if err != nil {
		if errors.Is(err, ErrAlreadyRunning) {
			return err
		}
		return fmt.Errorf("serve %s: %w", cfg.Account, err)
	}
	defer lock.Close() // releases the lock, last of all
	if cfg.Current != nil {
		// The account may have been removed or renamed between the
		// caller's reading of the registry and the lock: a supervisor
		// started then would run on with nothing able to stop it.
		gone, err := cfg.Current()
		if err == nil && gone != "" {
			err = errors.New(gone)
		}
		if err != nil {
			return fmt.Errorf("serve %s: %w", cfg.Account, err)
		}
	}

	for _, dir := range []string{
		statedir.LeasesDir(cfg.StateDir),
		filepath.Join(cfg.StateDir, "tmp"),
		filepath.Join(cfg.DataHome, "opencode"),
	} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("serve %s: %w", cfg.Account, err)
		}
	}
	env := cfg.Env
	if env == nil {
		env = BuildEnv(os.Environ(), cfg, nil)
	}
	env = overlayEnv(env, cfg)

	s := &supervisor{
		cfg: cfg,
		env: env,
		log: log.New(logw, "oca serve "+cfg.Account+": ", log.LstdFlags|log.Lmicroseconds|log.Lmsgprefix),
		red: newRedactor(cfg.Password, env),
		st: Status{
			Account:         cfg.Account,
			Port:            cfg.Port,
			URL:             opencode.URL(cfg.Port),
			SupervisorPID:   os.Getpid(),
			SupervisorStart: procfs.StartTime(os.Getpid()),
			StartedAt:       time.Now(),
		},
		backoff: cfg.BackoffMin,
	}
	prev, err := readStatusFile(cfg.StateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Printf("ignoring unreadable status: %v", err)
	}
	s.quiet = quietDir(cfg.StateDir)
	if s.quiet != cfg.StateDir {
		s.log.Printf("opencode runs in %s: others may write to %s or a directory above it, where OpenCode would look for config", s.quiet, cfg.StateDir)
	}
	s.setPhase(PhaseStarting, "")
	s.recoverOrphan(prev)

	s.idle = newIdleTracker(cfg, s.log.Printf)
	defer s.idle.stop()
	s.creds = newCredsWatch(cfg.DataHome, cfg.ConfigDir, s.log.Printf)
	reloads, stopReloads := context.WithCancel(ctx)
	defer stopReloads()
	go s.creds.reloader(reloads, cfg.ReloadWait)
	if s.watcher, err = fsnotify.NewWatcher(); err != nil {
		return s.fail(fmt.Errorf("watch files: %w", err))
	}
	defer s.watcher.Close()
	for _, dir := range []string{statedir.LeasesDir(cfg.StateDir), filepath.Join(cfg.DataHome, "opencode")} {
		if err := s.watcher.Add(dir); err != nil {
			return s.fail(fmt.Errorf("watch %s: %w", dir, err))
		}
	}
	s.accounts = time.NewTimer(time.Hour)
	s.accounts.Stop()
	defer s.accounts.Stop()
	if cfg.Current != nil && cfg.AccountsFile != "" {
		// Its directory: a save replaces the file (a rename over it).
		if err := s.watcher.Add(filepath.Dir(cfg.AccountsFile)); err != nil {
			s.log.Printf("watch %s: %v (its changes are seen at the polls)", cfg.AccountsFile, err)
		}
	}
	// Checked (and, by cmd/oca's check, made when absent) before it is
	// watched; again before each start of OpenCode.
	if err := s.checkConfigDir(); err != nil {
		return s.fail(err)
	}
	s.watchConfig()
	return s.loop(ctx)
}

// setPhase records a phase change in status.json.
func (s *supervisor) setPhase(phase, lastErr string) {
	if phase != s.st.Phase {
		s.log.Printf("phase %s", phase)
	}
	s.st.Phase = phase
	if lastErr != "" {
		s.st.LastError = lastErr
		s.st.LastOutput = s.out.last()
	}
	s.st.UpdatedAt = time.Now()
	if err := writeStatus(s.cfg.StateDir, s.st); err != nil {
		s.log.Printf("%v", err)
	}
}

// fail records phase failing with err and returns err.
func (s *supervisor) fail(err error) error {
	s.log.Printf("giving up: %v", err)
	s.st.OpencodePID, s.st.OpencodePGID, s.st.OpencodeStart = 0, 0, 0
	s.setPhase(PhaseFailing, err.Error())
	return fmt.Errorf("serve %s: %w", s.cfg.Account, err)
}

// recoverOrphan stops an OpenCode left running by a supervisor that was
// killed (kill -9, OOM): status.json names its process group, and the
// group is ours when its leader is the recorded process (same pid and start
// time) or the group has lost its leader (a reused pid would lead its group).
// It is stopped rather than adopted: it cannot be waited for, its output
// pipe is gone, and a restart costs about a second.
func (s *supervisor) recoverOrphan(prev Status) {
	pgid := prev.OpencodePGID
	if pgid <= 0 || len(procfs.GroupMembers(pgid)) == 0 {
		return
	}
	if !procfs.Alive(prev.OpencodePID, prev.OpencodeStart) && procfs.Alive(pgid, 0) {
		return // the pgid now leads somebody else's group
	}
	s.log.Printf("found opencode (pid %d) left by supervisor pid %d: stopping its process group", prev.OpencodePID, prev.SupervisorPID)
	stopGroup(pgid, s.cfg.StopGrace, func() bool { return len(procfs.GroupMembers(pgid)) == 0 }, s.log.Printf)
}

// portSettle is how long a busy port is watched before it counts as
// taken: a process that just exited may hold its socket for a moment.
const portSettle = 2 * time.Second

// checkPort fails with a PortInUseError when the port cannot be bound on
// 127.0.0.1 for portSettle. Binding is the test OpenCode will meet, and
// costs microseconds, and the kernel's list of sockets is asked only to
// name the holder.
func (s *supervisor) checkPort() error {
	free := func() bool {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.Port)))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	if free() {
		return nil
	}
	if h, _ := opencode.PortHolder(s.cfg.Port); s.ours(h) {
		// An OpenCode of this account whose supervisor died before
		// status.json named it.
		s.log.Printf("port %d is held by this account's opencode (pid %d) of an earlier supervisor: stopping it", s.cfg.Port, h.PID)
		stopGroup(h.PGID, s.cfg.StopGrace, func() bool { return len(procfs.GroupMembers(h.PGID)) == 0 }, s.log.Printf)
	}
	if waitUntil(free, portSettle) {
		return nil
	}
	return opencode.PortInUse(s.cfg.Port, s.red.redact)
}

// ours reports whether h is an OpenCode started by a supervisor of this
// account: it leads its own process group and its environment has the
// account's data home and the TMPDIR only a supervisor gives (a server
// started by hand in a shell of the project would have the first, never the
// second).
func (s *supervisor) ours(h opencode.Holder) bool {
	tmp := "TMPDIR=" + filepath.Join(s.cfg.StateDir, "tmp")
	return h.PID > 0 && h.PGID == h.PID && h.PID != os.Getpid() &&
		procfs.EnvHas(h.PID, "XDG_DATA_HOME="+s.cfg.DataHome, tmp)
}

// event is what interrupts the supervisor's wait.
type event int

const (
	evExited   event = iota // OpenCode exited
	evNotReady              // OpenCode not healthy within ReadyTimeout
	evTimer                 // the backoff is over
	evStop                  // ctx done
	evIdle                  // unused for IdleTimeout
	evTaken                 // the port's listener is not this run's (r.takenErr)
	evUnsafe                // the config dir failed Config.ConfigDirCheck (s.unsafe)
	evReload                // the config changed and this OpenCode cannot reload it: restart it
	evGone                  // the account was removed, renamed or changed (s.gone)
)

// loop starts OpenCode, and restarts it when it dies, until a stop.
func (s *supervisor) loop(ctx context.Context) error {
	for {
		if ctx.Err() != nil {
			return s.shutdown(nil, "stop requested")
		}
		if err := s.checkConfigDir(); err != nil {
			return s.fail(err)
		}
		s.creds.launched()
		r, err := s.launch()
		var pie *opencode.PortInUseError
		var never *cannotServe
		if errors.As(err, &pie) || errors.As(err, &never) {
			return s.fail(err)
		}
		var reason string
		if err != nil {
			reason = err.Error()
		} else {
			s.st.OpencodePID, s.st.OpencodePGID, s.st.OpencodeStart = r.pid, r.pgid, r.start
			s.st.OpencodeStartedAt, s.st.ReadyAt = r.startedAt, time.Time{}
			s.setPhase(PhaseStarting, "")
			s.log.Printf("started opencode (pid %d) on %s", r.pid, s.st.URL)
			switch ev := s.await(ctx, r, nil); ev {
			case evStop:
				return s.shutdown(r, "stop requested")
			case evIdle:
				return s.shutdown(r, fmt.Sprintf("no shell and no client for %s", s.cfg.IdleTimeout))
			case evTaken:
				s.stop(r, "the port is held by another process")
				return s.fail(r.takenErr)
			case evUnsafe:
				s.stop(r, "its config dir is refused")
				return s.fail(s.unsafe)
			case evGone:
				return s.shutdown(r, s.gone)
			case evReload:
				// Not a crash: started again at once, and not counted.
				s.stop(r, "its config changed, and "+s.ver.String()+" cannot reload a running server")
				continue
			case evNotReady:
				state := s.stop(r, fmt.Sprintf("not healthy after %s", s.cfg.ReadyTimeout))
				reason = fmt.Sprintf("not healthy after %s (then %s)", s.cfg.ReadyTimeout, state)
			case evExited:
				reason = s.finish(r)
			}
			if err := s.checkPort(); err != nil {
				return s.fail(err)
			}
		}
		if r != nil && r.isReady && time.Since(r.readyAt) >= s.cfg.StableAfter {
			s.crashes, s.backoff = nil, s.cfg.BackoffMin
		}
		now := time.Now()
		s.crashes = append(s.crashes, now)
		for len(s.crashes) > 0 && now.Sub(s.crashes[0]) > s.cfg.CrashWindow {
			s.crashes = s.crashes[1:]
		}
		detail := reason
		if lines := s.out.last(); len(lines) > 0 {
			detail += "; last output: " + strings.Join(lines[max(0, len(lines)-3):], " | ")
		}
		s.st.OpencodePID, s.st.OpencodePGID, s.st.OpencodeStart = 0, 0, 0
		if len(s.crashes) >= s.cfg.MaxCrashes {
			return s.fail(fmt.Errorf("opencode crashed %d times within %s, last: %s", len(s.crashes), s.cfg.CrashWindow, detail))
		}
		delay := s.backoff
		s.backoff = min(2*s.backoff, s.cfg.BackoffMax)
		s.st.Restarts++
		s.log.Printf("opencode died (%s); restart %d in %s", detail, s.st.Restarts, delay)
		s.setPhase(PhaseRestarting, "opencode "+reason)
		timer := time.NewTimer(delay)
		ev := s.await(ctx, nil, timer.C)
		timer.Stop()
		switch ev {
		case evStop:
			return s.shutdown(nil, "stop requested")
		case evIdle:
			return s.shutdown(nil, fmt.Sprintf("no shell and no client for %s", s.cfg.IdleTimeout))
		case evUnsafe:
			return s.fail(s.unsafe)
		case evGone:
			return s.shutdown(nil, s.gone)
		}
	}
}

// checkConfigDir asks Config.ConfigDirCheck, where there is one.
func (s *supervisor) checkConfigDir() error {
	if s.cfg.ConfigDirCheck == nil {
		return nil
	}
	return s.cfg.ConfigDirCheck()
}

// configDirUnsafe reports whether the config dir is refused now, keeping
// why for the main loop.
func (s *supervisor) configDirUnsafe() bool {
	s.unsafe = s.checkConfigDir()
	return s.unsafe != nil
}

// accountGone reports whether Config.Current says the account is no
// longer the one served, keeping why for the main loop. When it cannot
// tell (a half-written accounts file) the server runs on, and the error
// is logged once.
func (s *supervisor) accountGone() bool {
	if s.cfg.Current == nil {
		return false
	}
	gone, err := s.cfg.Current()
	if err == nil && gone != "" {
		// Asked again a moment later: a file read in the middle of a
		// write can name fewer accounts than it will.
		time.Sleep(accountsSettle)
		gone, err = s.cfg.Current()
	}
	if err != nil {
		if err.Error() != s.unsure {
			s.unsure = err.Error()
			s.log.Printf("cannot tell whether account %s is still as it was started: %v", s.cfg.Account, err)
		}
		return false
	}
	s.unsure = ""
	s.gone = gone
	return gone != ""
}

// await serves file events, polls and credential reloads until something
// for the main loop happens: r exits or is not ready in time, the timer
// fires, ctx is done, or the server is idle. r and timer may be nil.
func (s *supervisor) await(ctx context.Context, r *run, timer <-chan time.Time) event {
	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	for {
		var exited, ready <-chan struct{}
		var notReady <-chan time.Time
		var taken <-chan error
		if r != nil {
			exited, taken = r.exited, r.taken
			if !r.isReady {
				ready, notReady = r.ready, r.readyTimer.C
			}
		}
		select {
		case <-ctx.Done():
			return evStop
		case <-exited:
			return evExited
		case <-notReady:
			return evNotReady
		case r.takenErr = <-taken:
			return evTaken
		case <-timer:
			return evTimer
		case <-ready:
			r.isReady, r.readyAt = true, time.Now()
			r.readyTimer.Stop()
			s.st.ReadyAt = r.readyAt
			s.log.Printf("opencode (pid %d) ready after %s", r.pid, r.readyAt.Sub(r.startedAt).Round(time.Millisecond))
			s.registered(r) // before anyone is told it is ready
			s.setPhase(PhaseReady, "")
			// Idle time runs from ready: a start slower than the idle
			// timeout must not end the server before anyone could use it.
			s.idle.used()
			if s.creds.readyNow() {
				s.creds.request(r.client)
			}
		case <-s.creds.restart:
			if r != nil && r.isReady {
				return evReload
			}
		case <-s.idle.C():
			// Only a ready server can be idle: its idle time runs from
			// ready (a start slower than idle_timeout must not end it).
			if r != nil && r.isReady && s.idle.check() {
				return evIdle
			}
		case <-poll.C:
			// A directory above the config dir loosened (no event of the
			// watcher's shows it) is seen here.
			if s.configDirUnsafe() {
				return evUnsafe
			}
			if s.accountGone() {
				return evGone
			}
			if r != nil && r.isReady && s.idle.check() {
				return evIdle
			}
		case ev, ok := <-s.watcher.Events:
			if !ok {
				s.watcher.Events = nil
				continue
			}
			if s.cfg.AccountsFile != "" && ev.Name == s.cfg.AccountsFile && !ev.Has(fsnotify.Chmod) {
				s.accounts.Reset(accountsSettle)
			}
			switch filepath.Dir(ev.Name) {
			case statedir.LeasesDir(s.cfg.StateDir):
				// A lease added or dropped is a use: idle time runs from
				// the moment the last shell left, not from the last check
				// before it.
				if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) {
					s.idle.used()
				}
			case filepath.Join(s.cfg.DataHome, "opencode"):
				// OpenCode 2 keeps credentials in its database: auth.json
				// is OpenCode 1.x's.
				if filepath.Base(ev.Name) == "auth.json" && !ev.Has(fsnotify.Chmod) && !s.ver.V2() {
					s.creds.changed()
				}
			default:
				// Any change there, a chmod of the dir itself included,
				// is judged before anything of it is read again.
				if s.inConfig(ev.Name) && s.configDirUnsafe() {
					return evUnsafe
				}
				if s.inConfig(ev.Name) && !ev.Has(fsnotify.Chmod) {
					if ev.Has(fsnotify.Create) {
						s.watchConfig() // a new sub-directory (agent/, command/...)
					}
					s.creds.changed()
				}
			}
		case <-s.accounts.C:
			if s.accountGone() {
				return evGone
			}
		case err, ok := <-s.watcher.Errors:
			if !ok {
				s.watcher.Errors = nil
				continue
			}
			s.log.Printf("watching files: %v", err)
		case <-s.creds.debounce.C:
			if s.configDirUnsafe() {
				return evUnsafe
			}
			if s.creds.settled(r != nil && r.isReady) {
				s.creds.request(r.client)
			}
		}
	}
}

// shutdown stops OpenCode (when running) with escalation and records phase
// stopped; an account that is gone, with why.
func (s *supervisor) shutdown(r *run, why string) error {
	s.log.Printf("stopping: %s", why)
	s.setPhase(PhaseStopping, "")
	if r != nil {
		s.stop(r, why)
	}
	s.st.OpencodePID, s.st.OpencodePGID, s.st.OpencodeStart = 0, 0, 0
	if s.gone != "" {
		s.st.LastError = "stopped: " + s.gone
	}
	s.setPhase(PhaseStopped, "")
	s.log.Printf("stopped")
	return nil
}
