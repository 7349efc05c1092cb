package supervisor

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
)

// Config is everything the supervisor needs about one account; the caller
// (cmd/oca) fills it from the accounts registry.
type Config struct {
	Account     string        // account name, e.g. "work"
	Port        int           // 127.0.0.1 port for opencode serve
	DataHome    string        // the account's XDG_DATA_HOME (auth.json is DataHome/opencode/auth.json)
	ConfigDir   string        // the account's OpenCode config layer (OPENCODE_CONFIG_DIR); "" for none
	StateHome   string        // the account's XDG_STATE_HOME, where OpenCode 2 finds its server; "" for none
	Password    string        // OPENCODE_SERVER_PASSWORD for this server; never printed or logged
	IdleTimeout time.Duration // stop after this long with no lease and no client connection; 0 = never
	Opencode    string        // path to the opencode binary
	StateDir    string        // per-account runtime dir owned by oca (0700): lock, status.json, serve.log, leases/, tmp/
	Env         []string      // OpenCode's environment (see BuildEnv); nil: BuildEnv(os.Environ(), cfg, nil)
	// Current, when set, tells whether the account is still the one this
	// supervisor was started for: "" while it is, else why not (it was
	// removed or renamed, made external, its port or homes changed). An
	// error: it cannot tell now (accounts.toml half written): asked again
	// later. Serve asks it once it holds the lock, and a non-empty answer
	// or an error ends Serve before anything starts (`oca account remove`
	// and `rename` hold the lock while they change the account). It is
	// asked again whenever AccountsFile changes and at each poll: a
	// non-empty answer stops OpenCode and Serve, the answer in the log and
	// in status.json, so that no supervisor runs on for an account nobody
	// can name any more.
	Current func() (gone string, err error)
	// AccountsFile is the file whose changes Current is asked about
	// ("": the polls alone).
	AccountsFile string
	// ConfigDirCheck, when set, judges the config dir (cmd/oca gives it
	// account.EnsureConfigDir): whoever may change it can have OpenCode
	// run code as the user, and send the account's keys where they like.
	// It is asked before each start of OpenCode, when something in the
	// config dir changes, before each reload and at each poll; an error
	// keeps OpenCode from starting, or stops it, and Serve gives up
	// (phase failing, the error in status.json and in the log).
	ConfigDirCheck func() error
	// Detect tells which OpenCode Opencode is (cmd/oca gives it
	// opencode.Detect with oca's cache): asked before each start, so that
	// an OpenCode upgraded under a running supervisor is started as what
	// it now is. nil: OpenCode 1.x.
	Detect func() (opencode.Version, error)

	// Tuning. Zero means the default shown.
	ReadyTimeout time.Duration // 60s: an OpenCode not healthy by then is killed and counted as a crash
	BackoffMin   time.Duration // 500ms: first delay before a restart, doubled at each crash in a row
	BackoffMax   time.Duration // 30s: longest delay before a restart
	StableAfter  time.Duration // 1m: healthy this long, a run resets the backoff and the crash count
	MaxCrashes   int           // 5: this many quick crashes within CrashWindow: phase failing, give up
	CrashWindow  time.Duration // 2m
	StopGrace    time.Duration // 2s: wait after each SIGTERM to the process group before escalating
	PollInterval time.Duration // 5s: slow poll for dead lease holders and client connections
	ReloadWait   time.Duration // 10m: how long a reload waits for busy sessions to finish
}

// Client is a client of the account's server for a user's command: the
// routes of the OpenCode Detect names, the password to the user's own
// socket only.
func (c Config) Client() (opencode.Client, error) {
	cl := opencode.Client{Port: c.Port, Password: c.Password, Version: opencode.Version{Major: 1}}
	if c.Detect != nil {
		v, err := c.Detect()
		if err != nil {
			return cl, err
		}
		cl.Version = v
	}
	return cl, nil
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadyTimeout, 60*time.Second)
	def(&c.BackoffMin, 500*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.StableAfter, time.Minute)
	def(&c.CrashWindow, 2*time.Minute)
	def(&c.StopGrace, 2*time.Second)
	def(&c.PollInterval, 5*time.Second)
	def(&c.ReloadWait, 10*time.Minute)
	if c.MaxCrashes <= 0 {
		c.MaxCrashes = 5
	}
	c.BackoffMax = max(c.BackoffMax, c.BackoffMin)
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Account == "" {
		errs = append(errs, errors.New("no account name"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", c.Port))
	}
	if c.DataHome == "" || !filepath.IsAbs(c.DataHome) {
		errs = append(errs, fmt.Errorf("data home %q is not an absolute path", c.DataHome))
	}
	if c.ConfigDir != "" && !filepath.IsAbs(c.ConfigDir) {
		errs = append(errs, fmt.Errorf("config dir %q is not an absolute path", c.ConfigDir))
	}
	if c.StateDir == "" || !filepath.IsAbs(c.StateDir) {
		errs = append(errs, fmt.Errorf("state dir %q is not an absolute path", c.StateDir))
	}
	if c.Opencode == "" {
		errs = append(errs, errors.New("no opencode binary"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("server config of %q: %w", c.Account, err)
	}
	return nil
}
