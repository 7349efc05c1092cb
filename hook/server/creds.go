package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

const credsDebounce = 200 * time.Millisecond

// authPath is where OpenCode keeps the account's credentials.
func authPath(dataHome string) string {
	return filepath.Join(dataHome, "opencode", "auth.json")
}

// credsWatch follows auth.json: when it changes on disk, the running server
// is told to drop its instance state (POST /instance/dispose) so that it
// reads the new credentials without a restart.
type credsWatch struct {
	path     string
	debounce *time.Timer
	lastSum  [32]byte // of the content the server is known to have read
	pending  bool     // changed while OpenCode was starting
}

func newCredsWatch(dataHome string) *credsWatch {
	c := &credsWatch{path: authPath(dataHome), debounce: time.NewTimer(time.Hour)}
	c.debounce.Stop()
	return c
}

// sum hashes auth.json (a missing file hashes as empty).
func (c *credsWatch) sum() [32]byte {
	b, _ := os.ReadFile(c.path)
	return sha256.Sum256(b)
}

// launched records the content a freshly started OpenCode reads.
func (c *credsWatch) launched() {
	c.lastSum = c.sum()
	c.pending = false
}

// changed is called for every file event on auth.json; the work waits for
// the writes to settle.
func (c *credsWatch) changed() {
	c.debounce.Reset(credsDebounce)
}

// settled is called when the debounce timer fires. It reports whether the
// content differs from what the server has read; if the server is not ready
// yet the change is kept for when it is.
func (c *credsWatch) settled(ready bool) bool {
	sum := c.sum()
	if sum == c.lastSum && !c.pending {
		return false
	}
	if !ready {
		c.pending = true
		return false
	}
	c.lastSum = sum
	c.pending = false
	return true
}

// readyNow is called when OpenCode becomes healthy: a change seen while it
// started is applied now.
func (c *credsWatch) readyNow() bool {
	if !c.pending {
		return false
	}
	c.lastSum = c.sum()
	c.pending = false
	return true
}

// reload tells the server on port to read its credentials again, over a
// connection that passed check. It never logs the content.
func reload(port int, password string, check listenerCheck, logf func(string, ...any)) {
	if err := dispose(context.Background(), port, password, check); err != nil {
		logf("credentials changed, but reloading them failed: %v", err)
		return
	}
	logf("credentials changed on disk: the server reloaded them (POST /instance/dispose)")
}

// authSecrets returns the secret values of auth.json (every string field
// of a provider's entry but its type), for the redactor. A missing or
// unreadable file has none.
func authSecrets(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var providers map[string]map[string]any
	if json.Unmarshal(b, &providers) != nil {
		return nil
	}
	var out []string
	for _, entry := range providers {
		for field, v := range entry {
			if s, ok := v.(string); ok && field != "type" {
				out = append(out, s)
			}
		}
	}
	return out
}
