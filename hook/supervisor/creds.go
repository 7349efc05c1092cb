package supervisor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/safepath"
)

const (
	credsDebounce = 200 * time.Millisecond
	// maxConfigFiles bounds the walk of an account's config dir.
	maxConfigFiles = 2000
	// busyPoll is how often a waiting reload asks whether sessions are busy.
	busyPoll = time.Second
	// reloadQuiet is how long the changes must have stopped before a
	// reload, and reloadBatch how long at most a storm of changes (an
	// editor saving every few hundred milliseconds, a script) defers one:
	// the changes of a storm make one reload, not one each.
	reloadQuiet = time.Second
	reloadBatch = 10 * time.Second
	// reloadRetry is how long after a failed reload the next is tried,
	// doubling with each failure in a row up to reloadRetryMax.
	reloadRetry    = 2 * time.Second
	reloadRetryMax = time.Minute
)

// opencodesOwn are the files OpenCode itself writes into a config dir when
// it starts (it installs its plugin package there): they are no change of
// the user's, and a reload for them would only repeat at every start.
var opencodesOwn = []string{"node_modules", ".gitignore", "package.json", "package-lock.json", "bun.lock", "bun.lockb"}

// ownFile reports whether path, below the config dir dir, is OpenCode's
// own.
func ownFile(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == "." {
		return false
	}
	first, _, _ := strings.Cut(rel, string(filepath.Separator))
	return slices.Contains(opencodesOwn, first)
}

// credsWatch follows auth.json and the account's config dir: when either
// changes on disk, the running server is told to read them again (POST
// /global/dispose), without a restart, but never in the middle of a reply:
//
//   - a change of auth.json that OpenCode itself made when it refreshed an
//     OAuth token (the same providers, the same fields, only access,
//     refresh and expires moved) needs no reload: the server already holds
//     the new token;
//   - any other change waits until no session is busy (GET
//     /session/status of each directory with a recent session), at most
//     Config.ReloadWait, and then reloads.
//
// A dispose of every instance aborts a reply that is streaming (measured
// with OpenCode 1.18: MessageAbortedError), and POST /instance/dispose
// reaches only the server's own directory, not the projects its clients
// work in: hence /global/dispose, and the wait.
type credsWatch struct {
	dataHome  string
	configDir string
	debounce  *time.Timer
	lastSum   [32]byte // of the auth.json the server is known to have read
	lastAuth  []byte   // its content, to tell a token refresh from a new login
	lastConf  [32]byte // of the config dir's listing (names, sizes, mtimes)
	pending   bool     // changed while OpenCode was starting
	logf      func(string, ...any)
	kick      chan struct{}                   // to the reloader: reload when no session is busy
	gen       atomic.Int64                    // OpenCode processes started: a new one has read everything afresh
	client    atomic.Pointer[opencode.Client] // the running OpenCode: who may receive the password, and its routes
	restart   chan struct{}                   // from the reloader: this OpenCode cannot reload, restart it
	refreshed func(old, new []byte) bool
}

func newCredsWatch(dataHome, configDir string, logf func(string, ...any)) *credsWatch {
	c := &credsWatch{dataHome: dataHome, configDir: configDir, debounce: time.NewTimer(time.Hour),
		logf: logf, kick: make(chan struct{}, 1), restart: make(chan struct{}, 1), refreshed: onlyRefreshed}
	c.debounce.Stop()
	return c
}

// read reads auth.json (account.ReadAuth: a missing file reads as empty;
// one that is a link, a directory or anything but a regular file is an
// error, and nothing of it is used).
func (c *credsWatch) read() ([]byte, error) {
	data, err := account.ReadAuth(c.dataHome)
	if err != nil {
		return nil, fmt.Errorf("not reloading the credentials: %w", err)
	}
	return data, nil
}

// confSum hashes the config dir's tree: each entry's path, kind, size and
// modification time. A missing dir hashes as empty; one that is not a
// directory is an error.
func (c *credsWatch) confSum() ([32]byte, error) {
	h := sha256.New()
	if c.configDir == "" {
		return [32]byte{}, nil
	}
	fi, err := os.Lstat(c.configDir)
	if os.IsNotExist(err) {
		return [32]byte(h.Sum(nil)), nil
	}
	if err != nil {
		return [32]byte{}, err
	}
	if !fi.IsDir() {
		return [32]byte{}, fmt.Errorf("config dir %s is not a directory (%s): not reloading it", c.configDir, fi.Mode().Type())
	}
	n := 0
	err = filepath.WalkDir(c.configDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n++; n > maxConfigFiles {
			return filepath.SkipAll
		}
		if ownFile(c.configDir, p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%d\n", p, info.Mode(), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return [32]byte{}, fmt.Errorf("config dir %s: %w", c.configDir, err)
	}
	return [32]byte(h.Sum(nil)), nil
}

// launched records what a freshly started OpenCode reads; a reload still
// waiting for busy sessions is no longer needed.
func (c *credsWatch) launched() {
	c.gen.Add(1)
	c.record()
}

// record takes what is on disk now as what the server has read.
func (c *credsWatch) record() {
	b, _ := c.read()
	c.lastSum, c.lastAuth = sha256.Sum256(b), b
	c.lastConf, _ = c.confSum()
	c.pending = false
}

// changed is called for every file event on auth.json or under the config
// dir; the work waits for the writes to settle.
func (c *credsWatch) changed() {
	c.debounce.Reset(credsDebounce)
}

// settled is called when the debounce timer fires. It reports whether the
// server must reload: the content differs from what the server has read,
// and not only by a token refresh. If the server is not ready yet the
// change is kept for when it is.
func (c *credsWatch) settled(ready bool) bool {
	b, err := c.read()
	if err != nil {
		c.logf("%v", err)
		return false
	}
	conf, err := c.confSum()
	if err != nil {
		c.logf("%v", err)
		return false
	}
	sum := sha256.Sum256(b)
	if sum == c.lastSum && conf == c.lastConf && !c.pending {
		return false
	}
	if !ready {
		c.pending = true
		return false
	}
	refresh := conf == c.lastConf && !c.pending && c.refreshed(c.lastAuth, b)
	c.lastSum, c.lastAuth, c.lastConf, c.pending = sum, b, conf, false
	if refresh {
		c.logf("OpenCode refreshed a token in auth.json: nothing to reload")
		return false
	}
	return true
}

// readyNow is called when OpenCode becomes healthy: a change seen while it
// started is applied now.
func (c *credsWatch) readyNow() bool {
	if !c.pending {
		return false
	}
	c.record()
	return true
}

// request asks the reloader for a reload of the running OpenCode, reached
// through client (whose check lets the password reach only that OpenCode);
// requests made while one waits are one, with the latest client.
func (c *credsWatch) request(client opencode.Client) {
	c.client.Store(&client)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// refreshFields are what OpenCode rewrites when it refreshes an OAuth token.
var refreshFields = []string{"access", "refresh", "expires"}

// onlyRefreshed reports whether auth.json went from old to new by a token
// refresh alone: the same providers, each of the same type with the same
// fields, only access, refresh and expires changed.
func onlyRefreshed(old, new []byte) bool {
	var a, b map[string]map[string]json.RawMessage
	if json.Unmarshal(old, &a) != nil || json.Unmarshal(new, &b) != nil || len(a) != len(b) || len(a) == 0 {
		return false
	}
	for name, ea := range a {
		eb, ok := b[name]
		if !ok || len(ea) != len(eb) {
			return false
		}
		for field, va := range ea {
			vb, ok := eb[field]
			if !ok {
				return false
			}
			if !slices.Contains(refreshFields, field) && !bytes.Equal(bytes.TrimSpace(va), bytes.TrimSpace(vb)) {
				return false
			}
		}
	}
	return true
}

// reloader runs until ctx is done: for each request, it waits until no
// session of the server is busy (at most wait), then tells the server to
// read its credentials and config again; a reload that fails (a loaded
// machine's OpenCode that does not answer in time) is tried again after
// reloadRetry, doubling up to reloadRetryMax. It never logs their content.
func (c *credsWatch) reloader(ctx context.Context, wait time.Duration) {
	failures := 0 // reloads that failed in a row
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		if !c.coalesce(ctx) {
			return
		}
		start, gen := time.Now(), c.gen.Load()
		client := *c.client.Load()
		waited := false
		for {
			if c.gen.Load() != gen {
				break
			}
			// A server that cannot say counts as busy: a reload now could
			// cut a reply.
			busy, err := client.BusySessions(ctx)
			if err == nil && busy == 0 {
				break
			}
			if time.Since(start) >= wait {
				c.logf("credentials or config changed; sessions still busy (or unknown) after %s: reloading anyway", wait)
				break
			}
			if !waited {
				why := fmt.Sprintf("%d busy session(s) finish", busy)
				if err != nil {
					why = fmt.Sprintf("the server says which sessions are busy (%v)", err)
				}
				c.logf("credentials or config changed; waiting until %s, at most %s", why, wait)
				waited = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(busyPoll):
			}
		}
		if c.gen.Load() != gen {
			c.logf("credentials or config changed; OpenCode restarted meanwhile and read them at its start: no reload needed")
			continue
		}
		err := client.Dispose(ctx)
		if errors.Is(err, opencode.ErrNoReload) {
			// OpenCode 2: no session is busy, so a restart cuts nothing.
			c.logf("config changed: restarting the server to read it (%v)", err)
			select {
			case c.restart <- struct{}{}:
			default:
			}
			continue
		}
		if err != nil {
			// The change stands until the server reads it: try again, as
			// one more request (a restart meanwhile makes it needless).
			failures++
			delay := min(reloadRetry<<min(failures-1, 8), reloadRetryMax)
			c.logf("credentials or config changed, but reloading them failed: %v; trying again in %s", err, delay)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			c.request(*c.client.Load())
			continue
		}
		failures = 0
		c.logf("credentials or config changed on disk: the server reloaded them (POST /global/dispose)")
	}
}

// coalesce waits until no request came for reloadQuiet, or reloadBatch
// after the first, taking the requests that come meanwhile as the one
// already taken; false when ctx is done. (Requests that come while a
// reload waits for busy sessions or runs are one more reload after it,
// coalesced again.)
func (c *credsWatch) coalesce(ctx context.Context) bool {
	first := time.Now()
	quiet := time.NewTimer(reloadQuiet)
	defer quiet.Stop()
	n := 1
	for {
		select {
		case <-ctx.Done():
			return false
		case <-c.kick:
			n++
			if left := reloadBatch - time.Since(first); left > 0 {
				quiet.Reset(min(reloadQuiet, left))
			}
		case <-quiet.C:
			if n > 1 {
				c.logf("credentials or config changed %d times within %s: one reload for them all", n, time.Since(first).Round(time.Millisecond))
			}
			return true
		}
	}
}

// watchConfig watches the account's config dir and the directories below
// it (agent/, command/, plugin/...: OpenCode reads them all). A config dir
// that is a link or not a directory is not watched, and the log says so.
func (s *supervisor) watchConfig() {
	dir := s.cfg.ConfigDir
	if dir == "" {
		return
	}
	fi, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		return
	}
	if err != nil || !fi.IsDir() {
		s.log.Printf("not watching config dir %s: it is not a directory (%v)", dir, err)
		return
	}
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if ownFile(dir, p) {
			return filepath.SkipDir
		}
		if n++; n > maxConfigFiles {
			return filepath.SkipAll
		}
		if err := s.watcher.Add(p); err != nil {
			s.log.Printf("watching %s: %v", p, err)
		}
		return nil
	})
}

// inConfig reports whether path is the config dir or below it.
func (s *supervisor) inConfig(path string) bool {
	dir := s.cfg.ConfigDir
	return dir != "" && safepath.Within(path, dir) && !ownFile(dir, path)
}
