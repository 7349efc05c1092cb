// Command ocaserve stands in for `oca serve ACCOUNT` in the tests: flags in,
// supervisor.Serve out. The password is read from -password-file (never argv).
// -home isolates the base environment: HOME and the XDG directories point
// below it. -env K=V (repeatable) is the account's env table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook/supervisor"
)

type envFlag map[string]string

func (e envFlag) String() string { return "" }
func (e envFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want K=V, got %q", s)
	}
	e[k] = v
	return nil
}

func main() {
	var cfg supervisor.Config
	extra := envFlag{}
	home := flag.String("home", "", "isolated HOME for the base environment")
	flag.StringVar(&cfg.Account, "account", "", "")
	flag.IntVar(&cfg.Port, "port", 0, "")
	flag.StringVar(&cfg.DataHome, "data-home", "", "")
	flag.StringVar(&cfg.StateDir, "state-dir", "", "")
	flag.StringVar(&cfg.Opencode, "opencode", "opencode", "")
	flag.DurationVar(&cfg.IdleTimeout, "idle", 0, "")
	flag.DurationVar(&cfg.StopGrace, "stop-grace", 0, "")
	flag.DurationVar(&cfg.BackoffMin, "backoff-min", 0, "")
	flag.DurationVar(&cfg.PollInterval, "poll", 0, "")
	flag.DurationVar(&cfg.ReadyTimeout, "ready-timeout", 0, "")
	passwordFile := flag.String("password-file", "", "file holding the server password")
	flag.Var(extra, "env", "K=V for the account's env table")
	flag.Parse()
	if *passwordFile != "" {
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.Password = strings.TrimSpace(string(b))
	}

	base := os.Environ()
	if *home != "" {
		base = append(base,
			"HOME="+*home,
			"XDG_CONFIG_HOME="+filepath.Join(*home, ".config"),
			"XDG_CACHE_HOME="+filepath.Join(*home, ".cache"),
			"XDG_STATE_HOME="+filepath.Join(*home, ".local", "state"))
	}
	cfg.Env = supervisor.BuildEnv(base, cfg, extra)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Fprintf(os.Stderr, "ocaserve %s: pid %d at %s\n", cfg.Account, os.Getpid(), time.Now().Format(time.RFC3339Nano))
	err := supervisor.Serve(ctx, cfg, os.Stderr)
	if errors.Is(err, supervisor.ErrAlreadyRunning) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
