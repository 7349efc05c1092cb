package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
)

// waitPoll is how often WaitReady probes: a refused connection costs
// microseconds, and the poll adds at most this to the time to ready.
const waitPoll = 25 * time.Millisecond

// WaitReady polls the account's server every 25 ms until it is healthy or
// ctx is done. It returns early with the reason when the account's
// supervisor gives up (phase "failing" written after WaitReady began), and
// at once with a *PortInUseError when the port is another user's. It asks
// in the routes of the OpenCode Config.Detect names.
func WaitReady(ctx context.Context, cfg Config) error {
	client, err := cfg.Client()
	if err != nil {
		return fmt.Errorf("wait for server of %s: %w", cfg.Account, err)
	}
	begin := time.Now()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	var last error
	for {
		ok, err := client.Health(ctx)
		if ok && cfg.discoverable(client.Version) {
			return nil
		}
		if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
			return fmt.Errorf("wait for server of %s: %w", cfg.Account, pie)
		}
		last = err
		if cfg.StateDir != "" {
			// ReadStatus: a file whose supervisor is gone while another
			// starts is not the current status.
			if st, err := ReadStatus(cfg.StateDir); err == nil && st.Phase == PhaseFailing && st.UpdatedAt.After(begin) {
				return fmt.Errorf("server of %s failed: %s", cfg.Account, st.LastError)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server of %s on port %d: %w (last: %v)", cfg.Account, cfg.Port, context.Cause(ctx), last)
		case <-tick.C:
		}
	}
}

// discoverable tells whether OpenCode 2's own discovery, in the account's
// state home, finds the server on the account's port: the 2.0 preview's
// server registers itself a moment after it first answers, and the
// supervisor registers the stable line's once it answered.
func (c Config) discoverable(v opencode.Version) bool {
	if c.StateHome == "" || !v.V2() {
		return true
	}
	reg, ok := v.Registered(c.StateHome)
	return ok && reg.URL == opencode.URL(c.Port)
}
