package supervisor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
)

// goneAccount is an account whose Current reads a file standing for
// accounts.toml: "ok" while the account is as started, "bad" for a file
// that cannot be read, anything else the reason it is gone.
func goneAccount(t *testing.T, poll time.Duration) (Config, string) {
	t.Helper()
	a := newAccount(t, "gone")
	accounts := filepath.Join(t.TempDir(), "accounts.toml")
	if err := os.WriteFile(accounts, []byte("ok"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := a.withEnv(map[string]string{"FAKE_MODE": "ok"})
	cfg.PollInterval = poll
	cfg.AccountsFile = accounts
	cfg.Current = func() (string, error) {
		b, err := os.ReadFile(accounts)
		switch s := strings.TrimSpace(string(b)); {
		case err != nil:
			return "", err
		case s == "ok":
			return "", nil
		case s == "bad":
			return "", errors.New("accounts.toml:1: half written")
		default:
			return s, nil
		}
	}
	return cfg, accounts
}

// TestServeStopsWhenItsAccountIsGone is issue 17's item 2: an account
// renamed, made external or removed by an edit of accounts.toml orphaned its
// supervisor, which kept the port and restarted its OpenCode. Now the
// change is seen at once (a watch on the file; the polls are an hour apart
// here), OpenCode and the supervisor stop, and the reason is in the log
// and in the status. A file that cannot be read meanwhile (a half-written
// edit) stops nothing.
func TestServeStopsWhenItsAccountIsGone(t *testing.T) {
	t.Parallel()
	cfg, accounts := goneAccount(t, time.Hour)
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseReady, testsys.OpencodeWait())
	if err := os.WriteFile(accounts, []byte("bad"), 0o600); err != nil {
		t.Fatal(err)
	}
	testsys.Eventually(t, 10*time.Second, "the unreadable file logged", func() bool {
		return strings.Contains(s.log.String(), "half written")
	})
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseReady {
		t.Fatalf("an unreadable accounts file stopped the server: %+v", st)
	}
	why := "account gone is no longer in accounts.toml (removed or renamed)"
	if err := os.WriteFile(accounts+".new", []byte(why), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(accounts+".new", accounts); err != nil { // as a save does
		t.Fatal(err)
	}
	if err := s.wait(t, 30*time.Second); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	st, err := ReadStatus(cfg.StateDir)
	if err != nil || st.Phase != PhaseStopped || !strings.Contains(st.LastError, why) {
		t.Errorf("status after the account went: %+v, %v", st, err)
	}
	if !strings.Contains(s.log.String(), "stopping: "+why) {
		t.Errorf("the log does not say why it stopped:\n%s", s.log.String())
	}
	noProcessLeft(t, cfg)
}

// TestServeSeesItsAccountGoneAtAPoll: without a watch (AccountsFile
// unset), and while OpenCode waits out a restart's backoff, the poll sees
// it.
func TestServeSeesItsAccountGoneAtAPoll(t *testing.T) {
	t.Parallel()
	cfg, accounts := goneAccount(t, 200*time.Millisecond)
	cfg.AccountsFile = ""
	cfg.Env = BuildEnv(os.Environ(), cfg, map[string]string{"FAKE_MODE": "crash"})
	cfg.BackoffMin, cfg.BackoffMax, cfg.MaxCrashes = time.Hour, time.Hour, 100
	s := startServe(t, cfg)
	waitPhase(t, cfg.StateDir, PhaseRestarting, testsys.OpencodeWait())
	if err := os.WriteFile(accounts, []byte("account gone is external now"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t, 30*time.Second); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if st, _ := ReadStatus(cfg.StateDir); st.Phase != PhaseStopped || !strings.Contains(st.LastError, "external now") {
		t.Errorf("status: %+v", st)
	}
}

// TestServeRefusesAnAccountGoneBeforeItsLock: a supervisor that takes the
// lock after the account changed starts nothing.
func TestServeRefusesAnAccountGoneBeforeItsLock(t *testing.T) {
	t.Parallel()
	cfg, accounts := goneAccount(t, time.Hour)
	if err := os.WriteFile(accounts, []byte("account gone's port is now 1, not 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, cfg)
	if err := s.wait(t, 30*time.Second); err == nil || !strings.Contains(err.Error(), "port is now 1") {
		t.Errorf("Serve = %v, want the reason", err)
	}
	if len(accountProcs(cfg.DataHome)) > 0 {
		t.Errorf("an OpenCode was started")
	}
}
