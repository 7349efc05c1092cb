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
)

// endGrace is how long a client oca ends (its server cannot run) has
// between SIGTERM and SIGKILL.
const endGrace = 3 * time.Second

// clientOptions is a client of an account's server: the TUI (attach URL
// --dir DIR ...) or run (run --attach URL ...).
type clientOptions struct {
	Account  *account.Account
	Registry *account.Registry
	Opencode opencodeRun   // the real OpenCode, its arguments, and the account's environment
	Timeout  time.Duration // how long to wait for the server before the client gives up (0: its start_timeout)
	Run      bool          // opencode run: it sends its prompt at once, so the server is waited for first
	// Version is the OpenCode Opencode.Path is. OpenCode 2's clients take
	// `--server URL` and the password in OPENCODE_PASSWORD, and are started
	// once the server is ready (they give up on a server that does not
	// answer within 5 s).
	Version opencode.Version
}

// client runs the real OpenCode as a client of the account's server. The
// client talks to a proxy of this process's (hook/shim/proxy) in place of
// the server: every connection it makes, for as long as it lives, is
// dialled through the owner check, and it is given the proxy's own
// password, never the account's. oca stays its parent for its whole life
// (the client is killed if oca dies), passes SIGTERM and SIGHUP on, and
// exits as it does.
//
// When nothing listens on the account's port, the server is started and
// the client at once: the proxy holds the client's connections until the
// server is ready (a TUI takes longer to load than a server to start). A
// server that cannot run ends the client (SIGTERM, then SIGKILL), and the
// error says why once the client has left the terminal. run waits for the
// server first, as its prompt is sent at once.
func (a *app) client(opts clientOptions) error {
	began := time.Now()
	acc := opts.Account
	opts.Timeout = startTimeout(acc, opts.Timeout)
	cfg, err := a.clientConfig(opts.Registry, acc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	cold := false
	v2 := opts.Version.V2()
	client, err := cfg.Client()
	if err != nil {
		return err
	}
	if ok, _ := client.Health(ctx); !ok || !acc.External && !discoverable(cfg, client.Version) {
		// Nothing on the port: start the server and the client at once.
		// Something (not ready yet, or not the account's): wait for it,
		// or for the reason it cannot run, before any client starts.
		if !opts.Run && !v2 && !acc.External && errors.Is(opencode.VerifyListener(cfg.Port), opencode.ErrNotListening) {
			if _, err := a.ensureServer(cfg, acc); err != nil {
				return err
			}
			cold = true
		} else if err := a.startAndWait(cfg, acc, opts.Timeout); err != nil {
			return err
		}
	}
	// The proxy's Ready, called one call at a time: the first wait of a
	// cold start is bounded by the timeout, and also ends when the
	// supervisor stopped while starting; later waits (the server went away:
	// killed, restarted, or stopped by hand) have no bound. Every wait ends
	// with the reason when the supervisor gave up after the client began,
	// or the port is another user's.
	first := cold
	ready := func(ctx context.Context) error {
		w := serverWait{cfg: cfg, since: began, external: acc.External}
		if first {
			w.starting, w.timeout, first = true, opts.Timeout, false
		}
		return w.wait(ctx)
	}
	// The proxy's order for run is OpenCode 1.x's (its run, attached, does
	// not wait for the reply); OpenCode 2's run prints the reply itself.
	p, err := proxy.Start(proxy.Options{Port: cfg.Port, Password: cfg.Password, Warm: !cold, Ready: ready, Run: opts.Run && !v2})
	if err != nil {
		return fmt.Errorf("a client of the server of %s: %w", acc.Name, err)
	}
	defer p.Close()
	run := opts.Opencode
	run.Args = proxied(run.Args, acc.URL(), p.URL())
	run.Env = maps.Clone(run.Env)
	run.Env["OPENCODE_SERVER_PASSWORD"] = p.Token()
	if v2 {
		run.Env["OPENCODE_PASSWORD"] = p.Token() // what OpenCode 2 reads first
	}
	delete(run.Env, "OPENCODE_SERVER_USERNAME") // OpenCode's default, which the server wants
	run.Proxy = p
	err = a.runOpencode(run)
	if failed := (proxyError{}); errors.As(err, &failed) {
		// Why the server cannot run, in one line, as before a client.
		return notReady(serverWait{cfg: cfg, timeout: opts.Timeout, external: acc.External}, acc, failed.err)
	}
	return err
}

// proxyError is why the proxy failed for good, once runOpencode ended the
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

// opencodeRun is the real OpenCode at Path, run as "opencode" with Args
// in Env: an account's environment, or outside projects the user's.
type opencodeRun struct {
	Path string
	Args []string
	Env  hook.Env

	// Proxy is the proxy of oca's the client talks to: oca stays its
	// parent for its whole life. nil: oca has nothing left to do, and
	// becomes the real OpenCode.
	Proxy *proxy.Proxy
}

// accountOpencode is the real OpenCode in the environment of the account
// name ("": the working directory's), with the account.
func (a *app) accountOpencode(name string) (*account.Account, *account.Registry, opencodeRun, error) {
	acc, reg, err := a.pick(name)
	if err != nil {
		return nil, nil, opencodeRun{}, err
	}
	real, err := a.realOpencode(reg)
	if err != nil {
		return nil, nil, opencodeRun{}, err
	}
	env, err := a.accountEnv(reg.Dirs(), acc)
	if err != nil {
		return nil, nil, opencodeRun{}, err
	}
	return acc, reg, opencodeRun{Path: real, Env: env}, nil
}

// runOpencode starts the real OpenCode, the one place that does for the
// user (the supervisor starts its server): in place of oca (exec), or as
// its child beside r.Proxy, waited for; its exit status is oca's (128+N
// for signal N). The child is killed when oca dies (Pdeathsig), so that it
// never outlives the proxy. When the proxy fails (the server cannot run),
// the child is ended, SIGTERM then SIGKILL after endGrace, and the proxy's
// error returned as a proxyError.
//
// The terminal's signals (SIGINT, SIGQUIT from the keyboard, and SIGTSTP,
// which the TUI sends its whole group on ctrl+z) reach the child and oca
// alike, in one process group: oca lets the child act on them and waits
// (SIGTSTP stops both; the shell's fg continues both). SIGTERM and SIGHUP,
// which may be sent to oca alone, are passed on.
func (a *app) runOpencode(r opencodeRun) error {
	argv := append([]string{"opencode"}, r.Args...)
	if r.Proxy == nil {
		return syscall.Exec(r.Path, argv, envList(r.Env))
	}
	cmd := exec.Command(r.Path)
	cmd.Args = argv
	cmd.Env = envList(r.Env)
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
	failed := r.Proxy.Done()
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
			why = r.Proxy.Err()
			_ = cmd.Process.Signal(syscall.SIGTERM)
			kill = time.After(endGrace)
		case <-kill:
			_ = cmd.Process.Kill()
		case err := <-exited:
			if why != nil {
				return proxyError{why}
			}
			if u := r.Proxy.Unanswered(); err == nil && u != nil {
				// run exits 0 once its prompt is answered, printed
				// reply or not.
				return fmt.Errorf("opencode run printed no reply: %w; run it again (see: oca server logs)", u)
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
