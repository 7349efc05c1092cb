package opencode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/filelock"
)

// Version is which OpenCode a binary is, as oca tells them apart: the
// major version, and whether it is the OpenCode 2.0 preview command line
// (npm's @opencode-ai/cli-*, binary lildax), whose server and discovery
// differ from the stable line's.
type Version struct {
	Major   int    `json:"major"`   // 1 or 2; 0: not recognised
	Preview bool   `json:"preview"` // the OpenCode 2.0 preview CLI
	Text    string `json:"text"`    // what --version printed, first line
}

// Known tells whether oca knows how to run this OpenCode: 1.x, 2.x, or the
// 2.0 preview. An OpenCode it does not know is never made a client of a
// shared server.
func (v Version) Known() bool { return v.Major == 1 || v.Major == 2 }

// V2 tells whether this is OpenCode 2 (the stable line or the preview):
// one shared server per user, found through $XDG_STATE_HOME/opencode.
func (v Version) V2() bool { return v.Major == 2 }

func (v Version) String() string {
	switch {
	case v.Preview:
		return "OpenCode 2.0 preview (" + v.Text + ")"
	case v.Text == "":
		return "an unknown OpenCode"
	}
	return "OpenCode " + v.Text
}

// Supported says in words which OpenCodes oca runs.
const Supported = "oca runs OpenCode 1.x, 2.x and the 2.0 preview"

// number finds a version number: 1.18.33, v2.1.0 (compiled when first
// used, not at every start of oca).
var number = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\bv?([0-9]+)\.([0-9]+)(?:\.[0-9]+)?(?:[-+][0-9A-Za-z.-]+)?\b`)
})

// parse reads what `BIN --version` and, when that did not tell, `BIN
// --help` printed.
func parse(version, help []byte) Version {
	first, _, _ := bytes.Cut(bytes.TrimSpace(version), []byte("\n"))
	v := Version{Text: string(bytes.TrimSpace(first))}
	if m := number().FindSubmatch(first); m != nil {
		v.Major, _ = strconv.Atoi(string(m[1]))
		if v.Major != 1 && v.Major != 2 {
			v.Major = 0
		}
		return v
	}
	if bytes.Contains(help, []byte("OpenCode 2.0 preview")) {
		v.Major, v.Preview = 2, true
	}
	return v
}

// ProbeTime bounds each of the binary's answers: OpenCode 1.x takes 1-2 s
// to print its version on an idle machine, and 13-18 s were measured on a
// loaded one (load 20 on 2 cores).
const ProbeTime = 90 * time.Second

// SlowError is a question to the binary (--version, --help) that took
// longer than Limit, and was stopped: a loaded machine, not an OpenCode
// that does not run.
type SlowError struct{ Limit time.Duration }

func (e *SlowError) Error() string {
	return fmt.Sprintf("took longer than %d s", int(e.Limit.Round(time.Second)/time.Second))
}

// ask runs the binary with args in a home of its own (OpenCode makes its
// directories under XDG_*_HOME at every start, even for --version) and
// returns what it printed, within limit (else a *SlowError). npm's
// launcher runs the binary as its child: both are stopped, as a process
// group, and a child left holding the output does not hold oca.
func ask(bin string, env []string, limit time.Duration, args ...string) ([]byte, error) {
	home, err := os.MkdirTemp("", "oca-opencode-version-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(env, "HOME="+home, "XDG_DATA_HOME="+home, "XDG_STATE_HOME="+home,
		"XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home, "TMPDIR="+home, "OPENCODE_DISABLE_AUTOUPDATE=1")
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return out, &SlowError{Limit: limit}
	}
	return out, err
}

// cacheEntry is what the version cache keeps of one binary: the answer,
// and the file it was asked of (its inode, size and times), so that a
// binary replaced or upgraded at the same path is asked again.
type cacheEntry struct {
	Ino     uint64  `json:"ino"`
	Size    int64   `json:"size"`
	Mtime   int64   `json:"mtime"`
	Ctime   int64   `json:"ctime"`
	Version Version `json:"version"`
}

func fileID(fi os.FileInfo) (cacheEntry, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return cacheEntry{}, false
	}
	return cacheEntry{Ino: st.Ino, Size: fi.Size(), Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}, true
}

// Detect tells which OpenCode the binary at bin is. It asks the binary once
// (--version, then --help when the version says nothing of a number) and
// keeps the answer in cacheFile (a JSON file of oca's own state), by path,
// inode, size and times: a later call costs one stat and one small read.
// env is the environment to run it in (PATH and the like); its homes are
// replaced by a temporary one.
func Detect(bin, cacheFile string, env []string) (Version, error) {
	return DetectWithin(bin, cacheFile, env, ProbeTime)
}

// DetectWithin is Detect with each answer of the binary bounded by limit.
func DetectWithin(bin, cacheFile string, env []string, limit time.Duration) (Version, error) {
	fi, err := os.Stat(bin)
	if err != nil {
		return Version{}, fmt.Errorf("which OpenCode is %s: %w", bin, err)
	}
	id, ok := fileID(fi)
	cache := map[string]cacheEntry{}
	cached := func() (Version, bool) {
		clear(cache)
		if b, err := os.ReadFile(cacheFile); err == nil {
			_ = json.Unmarshal(b, &cache)
		}
		e, hit := cache[bin]
		return e.Version, ok && hit && e.Ino == id.Ino && e.Size == id.Size && e.Mtime == id.Mtime && e.Ctime == id.Ctime
	}
	if v, hit := cached(); hit {
		return v, nil
	}
	// Asked under a lock: shims started at once (an editor opening its
	// projects, a script) ask the binary once, and the others read the
	// answer, where each asking at once made every answer slower (on a
	// loaded machine, past the limit). The lock's own trouble (no state
	// directory yet) only costs the sharing.
	if unlock, err := filelock.Lock(cacheFile + ".lock"); err == nil {
		defer unlock()
		if v, hit := cached(); hit {
			return v, nil
		}
	}
	out, err := ask(bin, env, limit, "--version")
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || len(out) == 0 {
			return Version{}, fmt.Errorf("which OpenCode is %s: %w", bin, err)
		}
	}
	var help []byte
	if !number().Match(bytes.SplitN(bytes.TrimSpace(out), []byte("\n"), 2)[0]) {
		var err error
		help, err = ask(bin, env, limit, "--help")
		if slow := (*SlowError)(nil); errors.As(err, &slow) {
			// Not an answer: asked again next time.
			return Version{}, fmt.Errorf("which OpenCode is %s: %w", bin, err)
		}
	}
	v := parse(out, help)
	if ok {
		id.Version = v
		cache[bin] = id
		if b, err := json.Marshal(cache); err == nil {
			_ = atomicfile.Write(cacheFile, b, 0o600)
		}
	}
	return v, nil
}
