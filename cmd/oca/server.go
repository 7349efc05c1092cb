package main

// oca server: start, stop, restart, wait for, or read the log of an
// account's server; and what every command that starts a server shares
// (its supervisor's configuration, and ensureServer, the one start).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/spf13/cobra"
)

type serverOptions struct {
	*app
	picked
	Timeout time.Duration // how long to wait: for the server to stop, or to be ready
}

// serverCommand is one of the server commands on [ACCOUNT].
type serverCommand struct {
	verb, short, example string
	timeout              bool // it waits, for --timeout at most
	run                  func(*serverOptions) error
}

func (s serverCommand) define(a *app) *cobra.Command {
	opts := &serverOptions{app: a}
	c := a.command(&cobra.Command{
		Use: s.verb + " [ACCOUNT]", Short: s.short,
		Example: examples(s.example),
		RunE:    opts.runE(a, func() error { return s.run(opts) }),
	})
	switch {
	case s.verb == "stop" || s.verb == "restart":
		addTimeout(c, &opts.Timeout, time.Minute, "how long to wait for it to stop")
	case s.timeout:
		addTimeout(c, &opts.Timeout, 0, "how long to wait")
	}
	return c
}

func serverStartRun(opts *serverOptions) error {
	acc := opts.Account
	if acc.External {
		return errExternal(acc, "start")
	}
	cfg, err := opts.preparedConfig(opts.Registry, acc)
	if err != nil {
		return err
	}
	started, err := opts.ensureServer(cfg, acc)
	if err != nil {
		return err
	}
	if started {
		fmt.Fprintf(opts.stdout, "starting the server of %s on %s (oca server wait %s waits for it)\n", acc.Name, acc.URL(), acc.Name)
	} else {
		fmt.Fprintf(opts.stdout, "the server of %s runs already, on %s\n", acc.Name, acc.URL())
	}
	return nil
}

func serverStopRun(opts *serverOptions) error {
	acc := opts.Account
	if acc.External {
		return errExternal(acc, "stop")
	}
	if err := supervisor.Stop(opts.Registry.Dirs().RuntimeDir(acc.Name), opts.Timeout); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "stopped the server of %s\n", acc.Name)
	return nil
}

func serverRestartRun(opts *serverOptions) error {
	if err := serverStopRun(opts); err != nil {
		return err
	}
	return serverStartRun(opts)
}

// serverWaitRun waits until the account's server is healthy, with a
// progress line on a terminal, or says why it is not.
func serverWaitRun(opts *serverOptions) error {
	acc, reg := opts.Account, opts.Registry
	if err := failingNow(reg, acc); err != nil {
		return err
	}
	cfg, err := opts.serverConfig(reg, acc)
	if err != nil {
		return err
	}
	if err := opts.waitReady(serverWait{cfg: cfg, since: time.Now(), timeout: startTimeout(acc, opts.Timeout), external: acc.External}, acc); err != nil {
		return err
	}
	// Healthy; let the supervisor see it too, so that `oca status` right
	// after agrees.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err := supervisor.ReadStatus(cfg.StateDir); err != nil || st.Phase != supervisor.PhaseStarting {
			break
		}
	}
	fmt.Fprintf(opts.stdout, "the server of %s is ready on %s\n", acc.Name, acc.URL())
	return nil
}

type serverLogsOptions struct {
	*app
	picked
	Lines  int  // how many of the last lines
	Follow bool // and what is appended after
}

func newServerLogsCmd(a *app) *cobra.Command {
	opts := &serverLogsOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "logs [ACCOUNT]", Short: "print the last lines of the server's log",
		Example: examples(`oca server logs work
			oca server logs work -n 3 -f`),
		RunE: opts.runE(a, func() error { return serverLogsRun(opts) }),
	})
	c.Flags().IntVarP(&opts.Lines, "lines", "n", 40, "how many of the last `LINES` to print")
	c.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing as the log grows")
	return c
}

// serverLogsRun prints the last lines of the log, and with Follow, what is
// appended after, until a signal ends it.
func serverLogsRun(opts *serverLogsOptions) error {
	path := filepath.Join(opts.Registry.Dirs().RuntimeDir(opts.Account.Name), "serve.log")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if !opts.Follow {
			return fmt.Errorf("no log yet at %s: the server has not run", path)
		}
		for errors.Is(err, os.ErrNotExist) {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			f, err = os.Open(path)
		}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tail(f, opts.stdout, opts.Lines); err != nil {
		return err
	}
	for opts.Follow {
		if _, err := io.Copy(opts.stdout, f); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// tail writes the last n lines of f and leaves f at its end.
func tail(f *os.File, w io.Writer, n int) error {
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	// Each line back from the end; a last newline ends the last line.
	cut := len(data)
	if cut > 0 && data[cut-1] == '\n' {
		cut--
	}
	start := len(data)
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(data[:cut], '\n')
		start = j + 1
		if j < 0 {
			break
		}
		cut = j
	}
	_, err = w.Write(data[start:])
	return err
}

// preparedConfig is serverConfig, once the account is ready for a server:
// its data home and its links, its config dir (account.Prepare).
func (a *app) preparedConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	if err := account.Prepare(reg.Dirs(), acc); err != nil {
		return supervisor.Config{}, err
	}
	return a.serverConfig(reg, acc)
}

// serverConfig is what the supervisor of acc needs, with its config dir
// checked now: a command that starts or waits for a server refuses a bad
// one at once.
func (a *app) serverConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	cfg, err := a.supervisorConfig(reg, acc)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.ConfigDirCheck()
}

// supervisorConfig is what the supervisor of acc needs. The config dir is
// left to the supervisor (Config.ConfigDirCheck), which checks it before
// each start of OpenCode and says in its status why it will not start one.
func (a *app) supervisorConfig(reg *account.Registry, acc *account.Account) (supervisor.Config, error) {
	dirs := reg.Dirs()
	cfg := supervisor.Config{
		Account:        acc.Name,
		Port:           acc.Port,
		DataHome:       acc.DataHome,
		StateHome:      acc.StateHome,
		ConfigDir:      acc.ConfigDir,
		IdleTimeout:    acc.IdleTimeout,
		ReadyTimeout:   acc.StartTimeout,
		StateDir:       dirs.RuntimeDir(acc.Name),
		ConfigDirCheck: func() error { return account.EnsureConfigDir(acc) },
	}
	if err := account.EnsurePrivateDir(cfg.StateDir); err != nil {
		return cfg, err
	}
	pw, err := account.Password(dirs, acc.Name)
	if err != nil {
		return cfg, err
	}
	cfg.Password = pw
	if cfg.Opencode, err = a.realOpencode(reg); err != nil {
		return cfg, err
	}
	cfg.Detect = a.detector(cfg.Opencode)
	orig, _, _ := a.environ()
	cfg.Env = supervisor.BuildEnv(envList(orig), cfg, acc.Env)
	return cfg, nil
}

// ensureServer starts the supervisor of acc's server where it is not
// running, without waiting, as the account says its server runs: under
// systemd (systemctl --user start; oca serve where systemd cannot: see
// systemdStart), by oca itself (oca serve), or, for an external account,
// not at all. started tells whether one was started.
func (a *app) ensureServer(cfg supervisor.Config, acc *account.Account) (started bool, err error) {
	switch {
	case acc.External:
		return false, nil
	case acc.Systemd:
		return a.systemdStart(cfg, acc)
	}
	return supervisor.Ensure(cfg, a.self, "serve", acc.Name)
}

// errExternal is what a command that would start or stop acc's server
// says when the account's server runs elsewhere.
func errExternal(acc *account.Account, what string) error {
	return fmt.Errorf("the server of %s runs elsewhere (external = true in accounts.toml): %s it where it runs (for oca compose: docker compose up -d, or down)", acc.Name, what)
}

func newServerCmd(a *app) *cobra.Command {
	return group("server", "start, stop, restart, wait for or read the log of an account's server", `oca server start work
		oca server logs work -n 20 -f`,
		serverCommand{verb: "start", run: serverStartRun,
			short: "start the account's server, unless it runs", example: "oca server start\noca server start work"}.define(a),
		serverCommand{verb: "stop", run: serverStopRun, timeout: true,
			short: "stop the account's server", example: "oca server stop work\noca server stop --timeout 2m"}.define(a),
		serverCommand{verb: "restart", run: serverRestartRun, timeout: true,
			short: "stop the account's server, then start it", example: "oca server restart work"}.define(a),
		serverCommand{verb: "wait", run: serverWaitRun, timeout: true,
			short: "wait until the account's server is ready, or say why it is not", example: "oca server wait work --timeout 2m"}.define(a),
		newServerLogsCmd(a))
}
