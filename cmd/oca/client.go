package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim/proxy"
	"github.com/oca-sh/oca/hook/supervisor"
)

// endGrace is how long a client oca ends (its server cannot run) has
// between SIGTERM and SIGKILL.
const endGrace = 3 * time.Second

// client runs the real OpenCode at real with args, a client of account
// acc's server (attach URL --dir DIR ..., or with run, run --attach URL
// ...), in env, the account's environment. The client talks to a proxy of
// this process's (hook/shim/proxy) in place of the server: every connection
// it makes, for as long as it lives, is dialled through the owner check,
// and it is given the proxy's own password, never the account's. oca stays
// its parent for its whole life (the client is killed if oca dies), passes
// SIGTERM and SIGHUP on, and exits as it does.
//
// When nothing listens on the account's port, the server is started and
// the client at once: the proxy holds the client's connections until the
// server is ready (a TUI takes longer to load than a server to start). A
// server that cannot run ends the client (SIGTERM, then SIGKILL), and the
// error says why once the client has left the terminal. run waits for the
// server first, as its prompt is sent at once.
func (a *app) client(reg *account.Registry, acc *account.Account, real string, args []string, env hook.Env, timeout time.Duration, run bool) error {
	began := time.Now()
	cfg, err := a.clientConfig(reg, acc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cold := false
	if ok, _ := opencode.Health(ctx, cfg.Port, cfg.Password); !ok {
		// Nothing on the port: start the server and the client at once.
		// Something (not ready yet, or not the account's): wait for it,
		// or for the reason it cannot run, before any client starts.
		if !run && !acc.External && errors.Is(opencode.VerifyListener(cfg.Port), opencode.ErrNotListening) {
			if _, err := a.ensureServer(cfg, acc); err != nil {
				return err
			}
			cold = true
		} else if err := a.startAndWait(cfg, acc, timeout); err != nil {
			return err
		}
	}
	p, err := proxy.Start(proxy.Options{
		Port:     cfg.Port,
		Password: cfg.Password,
		Warm:     !cold,
		Ready:    serverWaiter(cfg, began, cold, timeout),
		Run:      run,
	})
	if err != nil {
		return fmt.Errorf("a client of the server of %s: %w", acc.Name, err)
	}
	defer p.Close()
	env = maps.Clone(env)
	env["OPENCODE_SERVER_PASSWORD"] = p.Token()
	delete(env, "OPENCODE_SERVER_USERNAME") // OpenCode's default, which the server wants
	err = a.runChild(real, proxied(args, acc.URL(), p.URL()), env, p)
	if failed := (proxyError{}); errors.As(err, &failed) {
		// Why the server cannot run, in one line, as before a client.
		if errors.Is(failed.err, errStopped) {
			return errStoppedWhileStarting(acc)
		}
		return notReady(cfg, acc, failed.err, timeout)
	}
	return err
}

// proxyError is why the proxy failed for good, once runChild ended the
// client for it.
type proxyError struct{ err error }

func (e proxyError) Error() string { return e.err.Error() }
func (e proxyError) Unwrap() error { return e.err }

// proxied is args with the server's url replaced by the proxy's where a
// client takes it: `attach URL`, `--attach URL` (run), `--server URL`
// (OpenCode 2).
func proxied(args []string, url, proxyURL string) []string {
	args = slices.Clone(args)
	for i := 1; i < len(args); i++ {
		if args[i] == url && (args[i-1] == "attach" || args[i-1] == "--attach" || args[i-1] == "--server") {
			args[i] = proxyURL
		}
	}
	return args
}

// serverWaiter is the proxy's Options.Ready: it waits until the account's
// server is healthy (awaitServer). The first wait of a cold start is
// bounded by timeout, and also ends when the supervisor stopped while
// starting; later waits (the server went away: killed, restarted, or
// stopped by hand) have no bound. Every wait ends with the reason when the
// supervisor gave up (phase failing, written after the client began) or
// the port is another user's.
func serverWaiter(cfg supervisor.Config, began time.Time, cold bool, timeout time.Duration) func(context.Context) error {
	first := cold // the proxy calls this one call at a time
	return func(ctx context.Context) error {
		starting := first
		first = false
		if starting {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return awaitServer(ctx, cfg, began, starting)
	}
}

// errStopped says that the supervisor stopped while its server started.
var errStopped = errors.New("stopped while starting")

// awaitServer polls the account's server until it is healthy: every 25 ms
// for the first 10 s, then less and less often, down to once a second (a
// server stopped by hand may stay so for hours). It returns the error when
// the port is another user's, the supervisor's reason when it gave up
// (phase failing, written after since), errStopped when starting and the
// supervisor stopped, and ctx's error when ctx ends.
func awaitServer(ctx context.Context, cfg supervisor.Config, since time.Time, starting bool) error {
	begin := time.Now()
	poll := 25 * time.Millisecond
	for {
		ok, err := opencode.Health(ctx, cfg.Port, cfg.Password)
		if ok {
			return nil
		}
		if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
			return err
		}
		st, _ := supervisor.ReadStatus(cfg.StateDir)
		if st.Phase == supervisor.PhaseFailing && st.UpdatedAt.After(since) {
			return fmt.Errorf("server of %s failed: %s", cfg.Account, st.LastError)
		}
		if starting && st.Phase == supervisor.PhaseStopped && st.UpdatedAt.After(begin) && time.Since(st.UpdatedAt) > time.Second {
			return errStopped
		}
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

// runChild runs the real OpenCode at real with args in env, and waits for
// it; its exit status is oca's (128+N for signal N). The child is killed
// when oca dies (Pdeathsig), so that it never outlives the proxy p. When p
// fails (the server cannot run), the child is ended, SIGTERM then SIGKILL
// after endGrace, and p's error returned as a proxyError.
//
// The terminal's signals (SIGINT, SIGQUIT from the keyboard, and SIGTSTP,
// which the TUI sends its whole group on ctrl+z) reach the child and oca
// alike, in one process group: oca lets the child act on them and waits
// (SIGTSTP stops both; the shell's fg continues both). SIGTERM and SIGHUP,
// which may be sent to oca alone, are passed on.
func (a *app) runChild(real string, args []string, env hook.Env, p *proxy.Proxy) error {
	cmd := exec.Command(real, args...)
	cmd.Args[0] = "opencode"
	cmd.Env = envList(env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 4)
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP} {
		// A signal ignored (a background job's SIGINT) stays ignored, for
		// oca and the child alike.
		if !signal.Ignored(sig) {
			signal.Notify(sigs, sig)
		}
	}
	defer signal.Stop(sigs)
	started, exited := make(chan error, 1), make(chan error, 1)
	go func() {
		// Pdeathsig is sent when the thread that started the child ends,
		// not the process (golang/go#27505): this goroutine keeps its
		// thread, never unlocked, until the child has exited.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return err
	}
	failed := p.Done()
	var why error
	var kill <-chan time.Time
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTERM || sig == syscall.SIGHUP {
				_ = cmd.Process.Signal(sig)
			}
		case <-failed:
			failed = nil
			why = p.Err()
			_ = cmd.Process.Signal(syscall.SIGTERM)
			kill = time.After(endGrace)
		case <-kill:
			_ = cmd.Process.Kill()
		case err := <-exited:
			if why != nil {
				return proxyError{why}
			}
			return exitStatus(err)
		}
	}
}

// exitStatus is a child's end as oca's own exit: its status, or 128+N for
// signal N.
func exitStatus(err error) error {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitError(128 + int(ws.Signal()))
		}
		return exitError(ee.ExitCode())
	}
	return err
}
