package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestSystemdUserManager: under a real systemd user manager, with the real
// OpenCode: `oca systemd install` enables oca@ACCOUNT; entering a project
// starts it through systemd; the unit's main process is `oca serve` and
// its OpenCode is ready, password-protected, on the account's port; a kill
// -9 of the supervisor is restarted by systemd; `oca server stop` stops
// the unit; `oca systemd uninstall` disables it and removes the unit file.
func TestSystemdUserManager(t *testing.T) {
	testsys.NeedOpencode(t)
	u := testsys.AddUser(t)
	m := testsys.StartUserManager(t, u)
	o := shelltest.NewUserOca(t, u, "XDG_RUNTIME_DIR="+m.RuntimeDir)
	const unit = "oca@work.service"
	show := func() (active string, mainPID int) {
		t.Helper()
		out, err := m.Systemctl(u, "show", "--property", "ActiveState", "--property", "MainPID", unit).Output()
		if err != nil {
			t.Fatalf("systemctl --user show %s: %v", unit, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "ActiveState":
				active = v
			case "MainPID":
				mainPID, _ = strconv.Atoi(v)
			}
		}
		return active, mainPID
	}
	waitUnit := func(what string, ok func(active string, pid int) bool) (string, int) {
		t.Helper()
		var active string
		var pid int
		within := testsys.OpencodeWait()
		if !testsys.Poll(within, func() bool {
			active, pid = show()
			return ok(active, pid)
		}) {
			status, _ := m.Systemctl(u, "status", "--no-pager", unit).CombinedOutput()
			t.Fatalf("%s: not within %s (ActiveState=%s MainPID=%d)\n%s", what, within, active, pid, status)
		}
		return active, pid
	}
	cmdline := func(pid int) string {
		b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	}
	ready := func() (port int, password string) {
		t.Helper()
		out := o.Must(u.Home, "server", "wait", "work", "--timeout", testsys.OpencodeWait().String())
		if !strings.Contains(out, "is ready") {
			t.Fatalf("server wait: %s", out)
		}
		var st []struct {
			Phase string `json:"phase"`
			Port  int    `json:"port"`
		}
		if err := json.Unmarshal([]byte(o.Must(u.Home, "status", "work", "--json")), &st); err != nil || len(st) != 1 || st[0].Phase != "ready" {
			t.Fatalf("status --json: %+v %v", st, err)
		}
		return st[0].Port, readTrimmed(t, filepath.Join(u.Home, ".local/state/oca/accounts/work/password"))
	}

	o.Must(u.Home, "account", "add", "work")
	if out := o.Must(u.Home, "systemd", "install", "work"); !strings.Contains(out, "enabled "+unit) {
		t.Fatalf("systemd install: %s", out)
	}
	unitFile := filepath.Join(u.Home, ".config/systemd/user/oca@.service")
	if b, err := m.Systemctl(u, "is-enabled", unit).Output(); err != nil || strings.TrimSpace(string(b)) != "enabled" {
		t.Errorf("systemctl --user is-enabled %s: %q %v", unit, b, err)
	}
	// The unit's PATH is the user's, as the plain supervisor gets it.
	if b, err := os.ReadFile(unitFile); err != nil || !regexp.MustCompile(`(?m)^Environment=PATH=.*:`+regexp.QuoteMeta(u.Home)+`:`).Match(b) {
		t.Errorf("the unit's PATH is not the user's (%s first): %v\n%s", u.Home, err, b)
	}
	// doctor: the manager answers and the unit is enabled.
	if out, _, _ := o.Run(u.Home, "doctor"); strings.Contains(out, "it runs under systemd") || !strings.Contains(out, "systemd: "+unitFile+" is as oca writes it") {
		t.Errorf("doctor under a user manager:\n%s", out)
	}

	// Entering a project of the account starts the unit.
	proj := filepath.Join(u.Home, "proj")
	o.As("mkdir", proj)
	o.Must(proj, "init", "work")
	o.Must(proj, "export", "bash", "--pid", strconv.Itoa(os.Getpid()))
	_, pid := waitUnit("the unit active after entering", func(a string, p int) bool { return a == "active" && p > 0 })
	if c := cmdline(pid); !strings.HasSuffix(c, "oca serve work") {
		t.Errorf("the unit's main process is %q, want oca serve work", c)
	}
	port, password := ready()
	if code, body := httpGet(port, "/global/health", password); code != http.StatusOK || !strings.Contains(body, `"healthy":true`) {
		t.Errorf("health with the password: %d %s", code, body)
	}
	if code, _ := httpGet(port, "/config", ""); code != http.StatusUnauthorized {
		t.Errorf("without the password: %d, want 401", code)
	}

	// A supervisor killed is restarted by systemd, and its server with it.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, again := waitUnit("the unit restarted after kill -9", func(a string, p int) bool { return a == "active" && p > 0 && p != pid })
	if c := cmdline(again); !strings.HasSuffix(c, "oca serve work") {
		t.Errorf("after the restart the unit's main process is %q", c)
	}
	ready()

	// server stop stops the unit, and nothing of it is left.
	o.Must(u.Home, "server", "stop", "work")
	waitUnit("the unit inactive after server stop", func(a string, p int) bool { return a == "inactive" && p == 0 })
	if code, body := httpGet(port, "/global/health", password); code != 0 {
		t.Errorf("after server stop, port %d still answers: %d %.100s", port, code, body)
	}

	// uninstall: disabled, and the unit file gone (no account uses it).
	out := o.Must(u.Home, "systemd", "uninstall", "work")
	if !strings.Contains(out, "disabled "+unit) || !strings.Contains(out, "removed "+unitFile) {
		t.Errorf("systemd uninstall: %s", out)
	}
	if _, err := os.Stat(unitFile); !os.IsNotExist(err) {
		t.Errorf("the unit file is still there: %v", err)
	}
	if b, err := m.Systemctl(u, "is-enabled", unit).Output(); err == nil {
		t.Errorf("after uninstall, systemctl --user is-enabled %s: %s", unit, b)
	}
}
