package shells_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// The README is the user guide, and these tests run what it shows, so the
// guide cannot drift from the program: the tour line by line in a real bash
// with the hook, the rc lines and prompt snippets in their shells, and the
// commands of the FAQ.

type block struct {
	heading string
	lang    string
	lines   []string
}

func readme(t *testing.T) (blocks []block, text string) {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text = string(data)
	var cur *block
	heading := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{heading: heading, lang: strings.TrimPrefix(line, "```")}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
	}
	return blocks, text
}

func find(t *testing.T, blocks []block, heading, lang string, nth int) block {
	t.Helper()
	for _, b := range blocks {
		if b.heading == heading && b.lang == lang {
			if nth == 0 {
				return b
			}
			nth--
		}
	}
	t.Fatalf("README has no %s block #%d under %q", lang, nth, heading)
	return block{}
}

// uncomment drops a trailing "   # comment" from a README line.
func uncomment(line string) string {
	if i := strings.Index(line, "  #"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// fakeOpencode is the fake OpenCode: it serves health like OpenCode, and
// prints any other command it is given.
func fakeOpencode(t *testing.T) string { return shelltest.FakeOpencode(t) }

// bareWorld is a new user's home: no accounts yet, and the fake OpenCode
// named in accounts.toml so that servers start in a moment.
func bareWorld(t *testing.T) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{T: t, Home: filepath.Join(root, "home"), Bin: shelltest.Oca(t)}
	// The fake is the opencode on PATH too, for what oca exec runs.
	w.Env = []string{
		"HOME=" + w.Home,
		"PATH=" + filepath.Dir(fakeOpencode(t)) + ":" + filepath.Dir(w.Bin) + ":/usr/local/bin:/usr/bin:/bin",
		"TERM=dumb",
		"LANG=C.UTF-8",
		"USER=tester",
		// Ports of this world's own, never another test's.
		"OCA_FIRST_PORT=" + strconv.Itoa(testsys.Ports(t)),
	}
	w.Mkdir(".config/oca")
	w.Write(".config/oca/accounts.toml", "opencode = \""+fakeOpencode(t)+"\"\n")
	return w
}

func TestReadmeTour(t *testing.T) {
	t.Parallel()
	blocks, _ := readme(t)
	tour := find(t, blocks, "A five-minute tour", "sh", 0)
	w := bareWorld(t)
	t.Cleanup(func() {
		for _, a := range []string{"work", "personal"} {
			cmd := exec.Command(w.Bin, "server", "stop", a)
			cmd.Env = w.Env
			cmd.Run()
		}
	})
	s := w.Start("bash", "", shelltest.Options{})
	base := s.Env()
	outs := map[string]string{}
	for _, line := range tour.lines {
		out := s.Run(line)
		outs[line] = out
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "oca: ") && l != "oca: account work" && l != "oca: account personal" && !strings.HasPrefix(l, "oca: waiting for the server of work") {
				t.Errorf("README tour: %q said %q", line, l)
			}
		}
	}
	want := map[string][]string{
		"cd ~/src/client-app":                           {"oca: account work"},
		`echo "$OPENCODE_ACCOUNT $OPENCODE_SERVER_URL"`: {"work http://127.0.0.1:"},
		"oca login":  {"fake opencode auth login (account work, password set: true)"},
		"oca status": {"ACCOUNT", "personal", "work"},
		// oca's own opencode: the TUI as a client of work's server.
		"opencode": {"fake opencode attach http://127.0.0.1:", "--dir " + w.Path("src/client-app") + " (account work, password set: true)"},
	}
	for line, subs := range want {
		out, ran := outs[line]
		if !ran {
			t.Errorf("the README tour no longer has %q", line)
		}
		for _, sub := range subs {
			if !strings.Contains(out, sub) {
				t.Errorf("README tour: %q printed %q, want %q in it", line, out, sub)
			}
		}
	}
	expectEnv(t, "after the tour", s.Env(), base, nil)
}

// TestReadmeShellLines runs the README's rc lines (hook and completion) as
// they stand, in their shells, with `oca` found on PATH as after install.sh.
func TestReadmeShellLines(t *testing.T) {
	t.Parallel()
	blocks, _ := readme(t)
	hooks := find(t, blocks, "Your shell", "sh", 0).lines
	comps := find(t, blocks, "Your shell", "sh", 1).lines
	shells := []string{"bash", "zsh", "fish"}
	if len(hooks) != 3 || len(comps) != 3 {
		t.Fatalf("README's shell blocks changed: %q %q", hooks, comps)
	}
	for i, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			shelltest.Require(t, shell)
			w := shelltest.NewWorld(t)
			w.Oca("", "account", "add", "zeta-client")
			post := uncomment(comps[i])
			if shell == "zsh" {
				post = "autoload -Uz compinit && compinit -u -D\n" + post
			}
			s := w.Start(shell, "", shelltest.Options{Hook: uncomment(hooks[i]), Post: post})
			base := s.Env()
			s.Run("cd work")
			expectEnv(t, "README hook line", s.Env(), base, w.Vars("work"))
			if out := s.Run("oca account show zet\t"); !strings.Contains(out, "account:       zeta-client") {
				t.Errorf("README completion line: account name not completed: %q", out)
			}
		})
	}
}

// TestReadmePrompt: the prompt snippets show the account inside a project
// and nothing outside.
func TestReadmePrompt(t *testing.T) {
	t.Parallel()
	blocks, _ := readme(t)
	star := find(t, blocks, "The account in your prompt", "toml", 0)
	var cfg map[string]any
	if _, err := toml.Decode(strings.Join(star.lines, "\n"), &cfg); err != nil {
		t.Errorf("the starship snippet is not TOML: %v", err)
	} else if ev, _ := cfg["env_var"].(map[string]any); ev == nil || ev["OPENCODE_ACCOUNT"] == nil {
		t.Errorf("the starship snippet does not configure env_var.OPENCODE_ACCOUNT: %v", cfg)
	}
	posix := find(t, blocks, "The account in your prompt", "sh", 0).lines
	fish := find(t, blocks, "The account in your prompt", "fish", 0).lines
	for _, tc := range []struct{ shell, snippet string }{
		{"bash", uncomment(posix[0])},
		{"zsh", uncomment(posix[1])},
		{"fish", strings.Join(fish, "\n")},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			shelltest.Require(t, tc.shell)
			w := shelltest.NewWorld(t)
			env := w.Env
			if tc.shell == "fish" {
				// fish draws a right prompt on a capable terminal only.
				env = append(append([]string{}, w.Env...), "TERM=xterm")
			}
			s := w.Start(tc.shell, "", shelltest.Options{Env: env, Post: tc.snippet})
			// Each Run's output starts with the prompt shown before its line
			// was typed: the prompt after the cd.
			s.Run("cd work")
			if out := s.Run("true"); !strings.Contains(out, "oc:work") {
				t.Errorf("inside: the prompt does not show the account: %q", out)
			}
			s.Run("cd ..")
			if out := s.Run("true"); strings.Contains(out, "oc:") {
				t.Errorf("outside: the prompt shows an account: %q", out)
			}
		})
	}
}

// TestReadmeFAQ runs the commands the README shows in its prose.
func TestReadmeFAQ(t *testing.T) {
	t.Parallel()
	w := bareWorld(t)
	w.Oca("", "account", "add", "work")
	w.Mkdir(".opencode_accounts/old/opencode")
	w.Mkdir("runner")
	t.Cleanup(func() {
		cmd := exec.Command(w.Bin, "server", "stop", "work")
		cmd.Env = w.Env
		cmd.Run()
	})
	s := w.Start("bash", "", shelltest.Options{Pre: "export RUNNER_TEMP=~/runner"})
	for _, tc := range []struct{ line, want string }{
		// Through oca's run proxy, on a port of its own.
		{`oca exec work -- opencode run "fix the tests"`, " --dir " + w.Home + " fix the tests (account work, password set: true)"},
		{`oca account add ci --data-home "$RUNNER_TEMP/oc"`, "added account ci"},
		{"oca exec ci -- opencode --version", "1.18.0-fake"},
		{"oca account import ~/.opencode_accounts", "imported account old"},
		{"oca compose > compose.yaml && grep -c 127.0.0.1: compose.yaml", "3"},
		{"oca doctor --fix; oca doctor", "OpenCode 1.18.0-fake (V1)"},
		{"oca systemd print", "ExecStart="},
		// `opencode run` above started it.
		{"oca server start work && oca server logs work", "the server of work runs already"},
	} {
		if out := s.Run(tc.line); !strings.Contains(out, tc.want) {
			t.Errorf("%q printed %q, want %q in it", tc.line, out, tc.want)
		}
	}
}

// TestReadmeNamesRealCommands: every `oca WORD` the README mentions is a
// command, and every command is in the README's list.
func TestReadmeNamesRealCommands(t *testing.T) {
	t.Parallel()
	blocks, text := readme(t)
	w := shelltest.NewWorld(t)
	known := map[string]bool{}
	// cobra's completion of the first word: "NAME\tdescription" lines,
	// then ":DIRECTIVE".
	for _, line := range strings.Split(w.Oca("", "__complete", ""), "\n") {
		if name, _, _ := strings.Cut(line, "\t"); name != "" && !strings.HasPrefix(name, ":") {
			known[name] = true
		}
	}
	if !known["account"] || !known["version"] {
		t.Fatalf("oca __complete does not list the commands: %v", known)
	}
	var code []string
	for _, b := range blocks {
		code = append(code, b.lines...)
	}
	for _, m := range regexp.MustCompile("`([^`\n]+)`").FindAllStringSubmatch(text, -1) {
		code = append(code, m[1])
	}
	for _, m := range regexp.MustCompile(`(?:^|[\s(&|;"])oca ([a-z]+)`).FindAllStringSubmatch(strings.Join(code, "\n"), -1) {
		if !known[m[1]] {
			t.Errorf("README mentions `oca %s`, which is no command", m[1])
		}
	}
	list := strings.Join(find(t, blocks, "Commands", "", 0).lines, "\n")
	for c := range known {
		if c == "help" {
			continue
		}
		if !regexp.MustCompile(`(?m)(^oca |\| )` + c + `\b`).MatchString(list) {
			t.Errorf("command %q is missing from the README's list of commands", c)
		}
	}
}
