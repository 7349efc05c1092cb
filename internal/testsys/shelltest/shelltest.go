// Package shelltest drives real interactive bash, zsh and fish through a
// pseudo-terminal, for the tests of oca's hooks: a line is typed as a user
// would type it, and the prompt that follows is awaited, so the hook has run.
package shelltest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oca-sh/oca/internal/testsys"
)

// Prompt is the prompt every test shell shows.
const Prompt = "<oca-prompt>"

// Require returns the path of the shell, skipping the test where it is
// missing, except in CI (CI=true), where a missing shell fails it
// (testsys.NeedTool).
func Require(t testing.TB, name string) string {
	t.Helper()
	return testsys.NeedTool(t, name)
}

// __mark prints the marker that ends one Run, and keeps $?.
const (
	posixMark = "__mark() { local s=$?; printf 'S%sY\\n' \"$1\"; return $s; }\n"
	fishMark  = "function __mark; set -l s $status; printf 'S%sY\\n' $argv[1]; return $s; end\n"
)

// Options start a shell.
type Options struct {
	Env  []string // the whole environment (HOME, PATH, ...)
	Dir  string   // working directory to start in
	Pre  string   // rc lines before the hook is installed
	Hook string   // the hook line itself, e.g. eval "$(/path/oca hook bash)"
	Post string   // rc lines after it
}

// Shell is a running interactive shell.
type Shell struct {
	t    testing.TB
	Name string
	cmd  *exec.Cmd
	pty  *os.File
	tmp  string
	seq  int
	mu   sync.Mutex
	out  bytes.Buffer
	grew chan struct{} // closed (and replaced) when out grows
	done chan struct{}
	pos  int // how much of out the tests have consumed
}

// Start starts shell name (bash, zsh or fish) on a pty with opt.
func Start(t testing.TB, name string, opt Options) *Shell {
	t.Helper()
	path := Require(t, name)
	tmp := t.TempDir()
	s := &Shell{t: t, Name: name, tmp: tmp, grew: make(chan struct{}), done: make(chan struct{})}
	var args []string
	env := append([]string{}, opt.Env...)
	switch name {
	case "bash":
		rc := "PS1='" + Prompt + "'\nPS2=''\n" + posixMark + opt.Pre + "\n" + opt.Hook + "\n" + opt.Post + "\n"
		write(t, filepath.Join(tmp, "bashrc"), rc)
		args = []string{"--noprofile", "--rcfile", filepath.Join(tmp, "bashrc"), "-i"}
	case "zsh":
		rc := "PROMPT='" + Prompt + "'\nRPROMPT=''\nPROMPT_EOL_MARK=''\nunsetopt BEEP\n" + posixMark + opt.Pre + "\n" + opt.Hook + "\n" + opt.Post + "\n"
		write(t, filepath.Join(tmp, ".zshrc"), rc)
		env = append(env, "ZDOTDIR="+tmp)
		args = []string{"--no-globalrcs", "-i"}
	case "fish":
		rc := "function fish_prompt; printf '%s' '" + Prompt + "'; end\nfunction fish_greeting; end\nfunction fish_title; end\nfunction fish_right_prompt; end\n" + fishMark +
			opt.Pre + "\n" + opt.Hook + "\n" + opt.Post + "\n"
		write(t, filepath.Join(tmp, "config.fish"), rc)
		args = []string{"--no-config", "-i", "-C", "source " + filepath.Join(tmp, "config.fish")}
	default:
		t.Fatalf("shelltest: unknown shell %q", name)
	}
	s.cmd = exec.Command(path, args...)
	s.cmd.Env = env
	s.cmd.Dir = opt.Dir
	f, err := pty.StartWithSize(s.cmd, &pty.Winsize{Rows: 50, Cols: 400})
	if err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	s.pty = f
	go s.read()
	t.Cleanup(s.Close)
	s.await(Prompt, 0, wait())
	return s
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *Shell) read() {
	defer close(s.done)
	buf := make([]byte, 4096)
	for {
		n, err := s.pty.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.out.Write(buf[:n])
			close(s.grew)
			s.grew = make(chan struct{})
			s.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// Wait is how long Run waits for a command and the prompt after it, on a
// machine that is not loaded (see wait).
const Wait = 20 * time.Second

// wait is Wait, longer on a loaded machine (testsys.Loaded): the shell
// tests run many shells at once.
func wait() time.Duration { return testsys.Loaded(Wait) }

// await waits up to within for want to appear in the output after offset
// from, and returns the index just past it. It looks again each time the
// shell writes, so a prompt is seen as soon as it shows.
func (s *Shell) await(want string, from int, within time.Duration) int {
	s.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	exited := false
	for {
		// Searched in place: a copy of all the shell has shown, at each
		// read of the terminal, costs a long test seconds of CPU.
		s.mu.Lock()
		from = min(from, s.out.Len())
		i, grew := bytes.Index(s.out.Bytes()[from:], []byte(want)), s.grew
		s.mu.Unlock()
		if i >= 0 {
			return from + i + len(want)
		}
		if exited {
			s.t.Fatalf("%s exited while waiting for %q; output:\n%s", s.Name, want, s.Raw())
		}
		select {
		case <-grew:
		case <-s.done:
			exited = true // look once more: its last words came before
		case <-deadline.C:
			s.t.Fatalf("%s: no %q after %s; output:\n%s", s.Name, want, within, s.Raw()[from:])
		}
	}
}

// Run types line, waits until the shell has run it and shown its next
// prompt (so the hook has run), and returns what the terminal showed
// meanwhile: the command's output and the hook's messages.
func (s *Shell) Run(line string) string {
	s.t.Helper()
	return s.RunWithin(line, wait())
}

// RunWithin is Run for a command that may take longer than Wait (a real
// OpenCode starting under load): it waits up to within.
func (s *Shell) RunWithin(line string, within time.Duration) string {
	s.t.Helper()
	s.seq++
	// The marker is printed by a second command typed after line, which
	// keeps the exit status: its text in the echo of what was typed never
	// matches the marker it prints ("S<n>Y").
	if _, err := fmt.Fprintf(s.pty, "%s\n__mark %d\n", line, s.seq); err != nil {
		s.t.Fatal(err)
	}
	marker := fmt.Sprintf("S%dY", s.seq)
	end := s.await(marker, s.pos, within)
	s.await(Prompt, end, wait())
	s.mu.Lock()
	seg := string(s.out.Bytes()[s.pos : end-len(marker)])
	s.mu.Unlock()
	s.pos = end
	return clean(seg)
}

// Raw returns all the terminal has shown since the shell started, control
// sequences included.
func (s *Shell) Raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// clean drops terminal control sequences and carriage returns.
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
		case c == 0x1b && i+1 < len(s) && s[i+1] == ']':
			j := i + 2
			for j < len(s) && s[j] != 0x07 && !(s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\') {
				j++
			}
			i = j
		case c == '\r':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Env returns the environment a command started by the shell now gets.
func (s *Shell) Env() map[string]string {
	s.t.Helper()
	file := filepath.Join(s.tmp, fmt.Sprintf("env.%d", s.seq+1))
	s.Run("env -0 > " + file)
	data, err := os.ReadFile(file)
	if err != nil {
		s.t.Fatalf("%s: reading env dump: %v", s.Name, err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// Close ends the shell.
func (s *Shell) Close() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	s.pty.Close()
	<-s.done
	s.cmd.Wait()
}
