package shells_test

import (
	"os"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// count returns how many times sub occurs in s.
func count(s, sub string) int { return strings.Count(s, sub) }

func TestUntrustedThenAllowed(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.Mkdir("cloned")
		w.Write("cloned/.opencode-account.toml", "account = \"work\"\n")
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()

		out := s.Run("cd cloned")
		if count(out, "oca allow") != 1 || !strings.Contains(out, "cloned/.opencode-account.toml") {
			t.Errorf("untrusted file: want one line naming the file and `oca allow`, got %q", out)
		}
		expectEnv(t, "untrusted", s.Env(), base, nil)
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the warning repeats at the next prompt: %q", out)
		}
		out = s.Run("oca allow")
		if !strings.Contains(out, "oca: account work") {
			t.Errorf("after oca allow, the next prompt should enter the account: %q", out)
		}
		expectEnv(t, "allowed", s.Env(), base, w.Vars("work"))

		// An edit revokes the allow at the next prompt; a deny blocks it.
		s.Run("echo '# edited' >> .opencode-account.toml")
		expectEnv(t, "edited", s.Env(), base, nil)
		s.Run("oca allow")
		expectEnv(t, "allowed again", s.Env(), base, w.Vars("work"))
		out = s.Run("oca deny")
		expectEnv(t, "denied", s.Env(), base, nil)
		if !strings.Contains(out, "denied") {
			t.Errorf("deny: %q", out)
		}
	})
}

func TestBrokenFileChangesNothing(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		s := w.Start(shell, "work", shelltest.Options{})
		s.Run("cd ..")
		base := s.Env()
		s.Run("cd work")
		inside := s.Env()
		expectEnv(t, "inside", inside, base, w.Vars("work"))

		// Broken while inside: one message with file:line, the shell keeps
		// the account, and the message is not repeated.
		out := s.Run("printf 'account = \"work\"\\nautostrt = true\\n' > .opencode-account.toml")
		if count(out, ".opencode-account.toml:2: key autostrt: unknown key") != 1 {
			t.Errorf("broken while inside: want one message naming file:line and key, got %q", out)
		}
		expectEnv(t, "broken inside", s.Env(), base, w.Vars("work"))
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the broken-file message repeats at the next prompt: %q", out)
		}
		s.Run("cd ..")
		expectEnv(t, "left the broken project", s.Env(), base, nil)
		out = s.Run("cd work")
		if !strings.Contains(out, w.Path("work/.opencode-account.toml")+":2: key autostrt: unknown key") {
			t.Errorf("broken file: want file:line and key, got %q", out)
		}
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the broken-file message repeats at the next prompt: %q", out)
		}
		expectEnv(t, "entered a broken project", s.Env(), base, nil)

		// Mended: the next prompt enters (it needs allowing again: the content changed).
		s.Run("printf 'account = \"work\"\\n' > .opencode-account.toml; oca allow >/dev/null")
		expectEnv(t, "mended", s.Env(), base, w.Vars("work"))
	})
}

func TestUnknownAccount(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.Mkdir("new")
		w.Write("new/.opencode-account.toml", "account = \"client-x\"\n")
		w.Oca("new", "allow")
		s := w.Start(shell, "", shelltest.Options{})
		base := s.Env()
		out := s.Run("cd new")
		if !strings.Contains(out, "oca account add client-x") {
			t.Errorf("unknown account: want how to create it, got %q", out)
		}
		expectEnv(t, "unknown account", s.Env(), base, nil)
		if out := s.Run("true"); strings.Contains(out, "oca:") {
			t.Errorf("the message repeats: %q", out)
		}
		s.Run("oca account add client-x")
		expectEnv(t, "account created", s.Env(), base, w.Vars("client-x"))
	})
}

func TestEditCreateDeleteWhileStaying(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		s := w.Start(shell, "plain", shelltest.Options{})
		base := s.Env()

		s.Run("oca init work >/dev/null")
		expectEnv(t, "created here", s.Env(), base, w.Vars("work"))

		s.Run("printf 'account = \"play\"\\n' > .opencode-account.toml; oca allow >/dev/null")
		expectEnv(t, "edited to play", s.Env(), base, w.Vars("play"))

		s.Run("rm .opencode-account.toml")
		expectEnv(t, "deleted", s.Env(), base, nil)

		// A file created in a parent directory applies too.
		s.Run("mkdir -p deep/er && cd deep/er")
		s.Run("cd ../.. && oca init play >/dev/null && cd deep/er")
		expectEnv(t, "parent file", s.Env(), base, w.Vars("play"))
		s.Run("printf 'account = \"work\"\\n' > ../.opencode-account.toml; oca allow .. >/dev/null")
		expectEnv(t, "nearer file created while staying", s.Env(), base, w.Vars("work"))
	})
}

func TestBinaryGone(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		data, err := os.ReadFile(w.Bin)
		if err != nil {
			t.Fatal(err)
		}
		gone := w.Path("bin/oca")
		w.Mkdir("bin")
		testsys.WriteExecutable(t, gone, data)
		s := w.Start(shell, "", shelltest.Options{Hook: shelltest.HookLine(shell, gone)})
		base := s.Env()
		s.Run("cd work")
		expectEnv(t, "entered", s.Env(), base, w.Vars("work"))
		s.Run("cd")
		if err := os.Remove(gone); err != nil {
			t.Fatal(err)
		}
		out := s.Run("cd work")
		if count(out, "is gone") != 1 {
			t.Errorf("binary gone: want one message, got %q", out)
		}
		out = s.Run("cd ../play") + s.Run("true") + s.Run("cd")
		if strings.Contains(out, "oca:") {
			t.Errorf("binary gone: the hook should stay quiet after saying it once, got %q", out)
		}
		if out := s.Run("echo still here"); !strings.Contains(out, "still here") {
			t.Errorf("the shell is not usable: %q", out)
		}
		expectEnv(t, "binary gone", s.Env(), base, nil)
		// Back on disk: the hook works again.
		testsys.WriteExecutable(t, gone, data)
		s.Run("cd work")
		expectEnv(t, "binary back", s.Env(), base, w.Vars("work"))
	})
}
