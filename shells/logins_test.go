package shells_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
	"github.com/oca-sh/oca/shells"
)

// TestExpiredLoginOnEntering: entering a project whose account has an
// expired OAuth login says so in one more line, once; staying, moving
// within the project and leaving say nothing.
func TestExpiredLoginOnEntering(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		w.Mkdir(".local/share/oca/accounts/work/opencode")
		expired := time.Now().Add(-2*time.Hour - time.Minute).UnixMilli()
		w.Write(".local/share/oca/accounts/work/opencode/auth.json",
			`{"openai":{"type":"api","key":"sk-SECRETKEY"},"anthropic":{"type":"oauth","refresh":"REFRESHSECRET","access":"ACCESSSECRET","expires":`+
				strconv.FormatInt(expired, 10)+`}}`)
		s := w.Start(shell, "plain", shelltest.Options{})
		base := s.Env()

		out := s.Run("cd ../work")
		want := regexp.MustCompile(`oca: account work\r?\noca: account work: anthropic login expired 2h ago; log in again with: oca login work anthropic\r?\n`)
		if !want.MatchString(out) {
			t.Errorf("entering: want the account line, then the expired login line; got %q", out)
		}
		if strings.Count(out, "login expired") != 1 {
			t.Errorf("entering: want one expired line, got %q", out)
		}
		for _, secret := range []string{"SECRETKEY", "REFRESHSECRET", "ACCESSSECRET"} {
			if strings.Contains(out, secret) {
				t.Errorf("a secret in the output: %q", out)
			}
		}
		expectEnv(t, "entered", s.Env(), base, w.Vars("work"))
		for _, cmd := range []string{"true", "cd sub", "cd .."} {
			if out := s.Run(cmd); strings.Contains(out, "oca:") {
				t.Errorf("%s inside the project: want silence, got %q", cmd, out)
			}
		}
		// Another account's project, without an auth.json: no line about logins.
		if out := s.Run("cd ../play"); strings.Contains(out, "login") {
			t.Errorf("entering play: %q", out)
		}
		// Back, after a new login: the account line alone.
		w.Write(".local/share/oca/accounts/work/opencode/auth.json",
			`{"anthropic":{"type":"oauth","refresh":"r","access":"a","expires":`+strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)+`}}`)
		if out := s.Run("cd ../work"); !strings.Contains(out, "oca: account work") || strings.Contains(out, "expired") {
			t.Errorf("entering after a new login: %q", out)
		}
	})
}

// TestReadmeExpiredLogin runs the README's expired-login session in bash:
// each `$ ` line as it stands, with its `oca:` lines said as shown and the
// status row's providers as shown.
func TestReadmeExpiredLogin(t *testing.T) {
	t.Parallel()
	blocks, _ := readme(t)
	session := find(t, blocks, "A five-minute tour", "text", 0)
	w := bareWorld(t)
	w.Env = append(w.Env, "OCA_AUTOSTART=0")
	w.Oca("", "account", "add", "work")
	w.Mkdir("src/client-app")
	w.Oca("src/client-app", "init", "work")
	w.Mkdir(".local/share/oca/accounts/work/opencode")
	w.Write(".local/share/oca/accounts/work/opencode/auth.json",
		`{"openai":{"type":"api","key":"sk-x"},"anthropic":{"type":"oauth","refresh":"r","access":"a","expires":`+
			strconv.FormatInt(time.Now().Add(-2*time.Hour-time.Minute).UnixMilli(), 10)+`}}`)
	s := w.Start("bash", "", shelltest.Options{})
	var out string
	ran := 0
	for _, line := range session.lines {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			out = s.Run(cmd)
			ran++
			if cmd == "oca login" && !strings.Contains(out, "fake opencode auth login (account work") {
				t.Errorf("oca login: %q", out)
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "oca: "):
			if !strings.Contains(out, line+"\n") {
				t.Errorf("README shows %q; the shell said %q", line, out)
			}
		case strings.HasPrefix(line, "work "):
			providers := line[strings.Index(line, "anthropic"):]
			if !regexp.MustCompile(`(?m)^work +\S+ .*  ` + regexp.QuoteMeta(providers) + `\r?$`).MatchString(out) {
				t.Errorf("README shows the row %q; oca status printed %q", line, out)
			}
		}
	}
	if ran != 3 {
		t.Errorf("the README's expired-login session ran %d commands, want 3", ran)
	}
}

// TestConfigDirRestoredOnLeaving: inside a project OPENCODE_CONFIG_DIR is
// the account's config dir; leaving (the shell by itself) puts back the
// user's own value byte for byte, in bash, zsh and fish.
func TestConfigDirRestoredOnLeaving(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		w.AddPlay()
		env := append(append([]string{}, w.Env...), "OPENCODE_CONFIG_DIR="+nasty)
		s := w.Start(shell, "plain", shelltest.Options{Env: env})
		base := s.Env()
		if base["OPENCODE_CONFIG_DIR"] != nasty {
			t.Fatalf("the shell did not start with the user's value: %q", base["OPENCODE_CONFIG_DIR"])
		}
		s.Run("cd ../work")
		vars := w.Vars("work")
		if vars["OPENCODE_CONFIG_DIR"] != w.Path(".config/oca/accounts/work") {
			t.Fatalf("work's config dir: %q", vars["OPENCODE_CONFIG_DIR"])
		}
		expectEnv(t, "inside", s.Env(), base, vars)
		s.Run("cd ../play")
		expectEnv(t, "switched", s.Env(), base, w.Vars("play"))
		s.Run("cd ../plain")
		expectEnv(t, "left", s.Env(), base, nil)
	})
}

// TestConfigDirOthersMayWrite: entering a project whose account's config
// dir others may write (0777) says so in one line, with the mend, and
// keeps the shell as it is; the next prompt says nothing; the mend the
// line gives, typed in the shell, makes the next entering apply the
// account, in bash, zsh and fish.
func TestConfigDirOthersMayWrite(t *testing.T) {
	t.Parallel()
	forEachShell(t, func(t *testing.T, shell string) {
		w := shelltest.NewWorld(t)
		cdir := w.Path(".config/oca/accounts/work")
		if err := os.Chmod(cdir, 0o777); err != nil {
			t.Fatal(err)
		}
		s := w.Start(shell, "plain", shelltest.Options{})
		base := s.Env()

		sh, err := shells.Get(shell)
		if err != nil {
			t.Fatal(err)
		}
		out := s.Run("cd ../work")
		want := "oca: account work: config dir " + cdir + " may be written by others (mode 0777): refusing it; mend with: chmod go-w " + sh.Quote(cdir)
		if ocaLines(out) != 1 || !strings.Contains(out, want) {
			t.Errorf("entering: want the one line %q, got %q", want, out)
		}
		expectEnv(t, "refused", s.Env(), base, nil)
		if out := s.Run("echo still here"); !strings.Contains(out, "still here") || strings.Contains(out, "oca:") {
			t.Errorf("the next prompt: %q", out)
		}
		s.Run("cd ../plain")
		s.Run(want[strings.Index(want, "mend with: ")+len("mend with: "):])
		if fi, err := os.Stat(cdir); err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("after the mend: %v %v", fi, err)
		}
		if out := s.Run("cd ../work"); strings.Contains(strings.ReplaceAll(out, "oca: account work", ""), "oca:") {
			t.Errorf("entering after the mend: %q", out)
		}
		expectEnv(t, "mended", s.Env(), base, w.Vars("work"))
	})
}
