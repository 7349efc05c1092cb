package main

// The one wait for an account's server: `oca server wait`, `oca attach`
// and the `opencode` shim before their client starts, and oca's proxy
// while its client runs (the server starting, or gone away).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor"
)

// serverWait is one wait for the server of cfg.Account.
type serverWait struct {
	cfg supervisor.Config

	// since is when the wait's reason began: a supervisor that gave up
	// (phase failing) after since ends the wait.
	since time.Time

	// starting: the supervisor was started for this wait, so that it
	// stopping (after the wait began) ends the wait with errStopped.
	starting bool

	// timeout bounds the wait (0: only its context does).
	timeout time.Duration

	// progress is where a line says what is waited for, on a terminal,
	// once the wait passes half a second (nil: nowhere).
	progress io.Writer

	// external: the server runs elsewhere (external = true), so on
	// OpenCode 2 no registration in the account's state home is waited for.
	external bool
}

// startTimeout is how long a wait for the server of acc lasts: flag (a
// --timeout given) or the account's start_timeout.
func startTimeout(acc *account.Account, flag time.Duration) time.Duration {
	if flag > 0 {
		return flag
	}
	if acc.StartTimeout > 0 {
		return acc.StartTimeout
	}
	return account.DefaultStartTimeout
}

// errStopped says that the supervisor stopped while its server started.
var errStopped = errors.New("stopped while starting")

// wait polls the account's server until it is healthy: every 25 ms for
// the first 10 s, then less and less often, down to once a second (a
// server stopped by hand may stay so for hours). It returns the error when
// the port is another user's, the supervisor's reason when it gave up,
// errStopped (see starting), and ctx's error when ctx ends.
func (w serverWait) wait(ctx context.Context) error {
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	cfg := w.cfg
	line := newProgress(w.progress)
	defer line.erase()
	begin := time.Now()
	poll := 25 * time.Millisecond
	client, err := cfg.Client()
	if err != nil {
		return fmt.Errorf("wait for server of %s: %w", cfg.Account, err)
	}
	for {
		ok, err := client.Health(ctx)
		if ok && (w.external || discoverable(cfg, client.Version)) {
			return nil
		}
		if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
			return err
		}
		st, _ := supervisor.ReadStatus(cfg.StateDir)
		if st.Phase == supervisor.PhaseFailing && st.UpdatedAt.After(w.since) {
			return fmt.Errorf("server of %s failed: %s", cfg.Account, st.LastError)
		}
		if w.starting && st.Phase == supervisor.PhaseStopped && st.UpdatedAt.After(begin) && time.Since(st.UpdatedAt) > time.Second {
			return errStopped
		}
		line.show(fmt.Sprintf("oca: waiting for the server of %s (%s, %.1fs)", cfg.Account, st.Phase, time.Since(begin).Seconds()))
		if time.Since(begin) > 10*time.Second {
			poll = min(poll*2, time.Second)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server of %s on port %d: %w (last: %v)", cfg.Account, cfg.Port, context.Cause(ctx), err)
		case <-time.After(poll):
		}
	}
}

// awaitStart waits, within the account's start timeout, while its server
// starts (phase starting), whatever it comes to. OpenCode 1.x migrates an
// account's database as it opens it, and the server's OpenCode does the
// same as it starts: two at once on a new data home, and one of them
// fails ("Failed query: CREATE TABLE ..."). A command of the account's run
// by the shim waits so for a server that starts; it starts none. On a
// terminal a line says so after half a second (progress).
func (a *app) awaitStart(reg *account.Registry, acc *account.Account) {
	dir := reg.Dirs().RuntimeDir(acc.Name)
	begin := time.Now()
	line := newProgress(a.stderr)
	defer line.erase()
	for {
		st, err := supervisor.ReadStatus(dir)
		if err != nil || st.Phase != supervisor.PhaseStarting || time.Since(begin) > startTimeout(acc, 0) {
			return
		}
		line.show("oca: waiting for the server of " + acc.Name + " to start")
		time.Sleep(25 * time.Millisecond)
	}
}

// progress is the one line a wait shows on a terminal (nowhere else):
// once the wait has lasted half a second, redrawn at most every 100 ms,
// and erased when the wait ends.
type progress struct {
	w            io.Writer // nil: not a terminal
	begin, shown time.Time
}

func newProgress(w io.Writer) *progress {
	if w == nil || !isTerminal(w) {
		w = nil
	}
	return &progress{w: w, begin: time.Now()}
}

func (p *progress) show(text string) {
	if p.w == nil || time.Since(p.begin) < 500*time.Millisecond || time.Since(p.shown) < 100*time.Millisecond {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K"+text)
	p.shown = time.Now()
}

func (p *progress) erase() {
	if p.w != nil && !p.shown.IsZero() {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// discoverable tells whether OpenCode 2's own discovery, in the account's
// state home, finds the server on the account's port (the 2.0 preview's
// server registers itself a moment after it first answers, and the
// supervisor registers the stable line's once it answered): before that,
// a V2 client started in the account's environment would start a server
// of its own. OpenCode 1.x: true.
func discoverable(cfg supervisor.Config, v opencode.Version) bool {
	if cfg.StateHome == "" || !v.V2() {
		return true
	}
	reg, ok := v.Registered(cfg.StateHome)
	return ok && reg.URL == opencode.URL(cfg.Port)
}

// waitReady waits as w says, with the progress line on stderr, and says in
// one line why the server of acc is not ready when it is not.
func (a *app) waitReady(w serverWait, acc *account.Account) error {
	w.progress = a.stderr
	if err := w.wait(context.Background()); err != nil {
		return notReady(w, acc, err)
	}
	return nil
}

// externalWait waits for the server of the account name ("": the working
// directory's) when it runs elsewhere (external = true), so that why it
// does not answer is said first, before anything about the client (such as
// no opencode on PATH). Any other account, or one that cannot be read, is
// left to the caller.
func (a *app) externalWait(name string, timeout time.Duration) error {
	acc, reg, err := a.pick(name)
	if err != nil || !acc.External {
		return nil
	}
	pw, err := account.Password(reg.Dirs(), acc.Name)
	if err != nil {
		return nil
	}
	cfg := supervisor.Config{Account: acc.Name, Port: acc.Port, Password: pw, StateDir: reg.Dirs().RuntimeDir(acc.Name)}
	return a.waitReady(serverWait{cfg: cfg, since: time.Now(), timeout: startTimeout(acc, timeout)}, acc)
}

// startAndWait makes sure the account's server runs (ensureServer) and
// waits until it is healthy (waitReady). A server that cannot run is an
// error with the reason from its status file: the caller never falls back
// to an OpenCode of its own.
func (a *app) startAndWait(cfg supervisor.Config, acc *account.Account, timeout time.Duration) error {
	begin := time.Now()
	if _, err := a.ensureServer(cfg, acc); err != nil {
		return err
	}
	return a.waitReady(serverWait{cfg: cfg, since: begin, starting: true, timeout: timeout, external: acc.External}, acc)
}

// failingNow is the error of a server whose supervisor gave up (phase
// failing): nothing will make it ready, so a wait says why at once.
func failingNow(reg *account.Registry, acc *account.Account) error {
	st, err := supervisor.ReadStatus(reg.Dirs().RuntimeDir(acc.Name))
	if err != nil || st.Phase != supervisor.PhaseFailing {
		return nil
	}
	why := st.LastError
	if why == "" {
		why = "see: oca server logs " + acc.Name
	}
	return fmt.Errorf("the server of %s is failing, and its supervisor gave up: %s (start it again with: oca server restart %s)", acc.Name, why, acc.Name)
}

// notReady is why the account's server is not ready, from err (w's) and
// its status file, in one line.
func notReady(w serverWait, acc *account.Account, err error) error {
	if errors.Is(err, errStopped) {
		return fmt.Errorf("the server of %s stopped while starting (see: oca server logs %s)", acc.Name, acc.Name)
	}
	if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
		return fmt.Errorf("the server of %s cannot run: %w (not the account's; its password is not sent there)", acc.Name, pie)
	}
	if acc.External {
		return fmt.Errorf("the server of %s runs elsewhere (external = true in accounts.toml) and does not answer on %s after %s: start it where it runs (for oca compose: docker compose up -d)", acc.Name, acc.URL(), w.timeout)
	}
	st, _ := supervisor.ReadStatus(w.cfg.StateDir)
	if st.LastError != "" {
		return fmt.Errorf("the server of %s cannot run (phase %s): %s (see: oca server logs %s)", acc.Name, st.Phase, st.LastError, acc.Name)
	}
	if acc.Systemd {
		return fmt.Errorf("the server of %s is not ready after %s (phase %s; it runs under systemd, see: systemctl --user status %s)", acc.Name, w.timeout, st.Phase, supervisor.UnitName(acc.Name))
	}
	return fmt.Errorf("the server of %s is not ready after %s (phase %s; see: oca server logs %s)", acc.Name, w.timeout, st.Phase, acc.Name)
}
