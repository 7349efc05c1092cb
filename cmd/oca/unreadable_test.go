package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oca-sh/oca/internal/testsys"
)

// TestUnreadableAuthAndConfigDir: for a user who is not root (root reads
// anything), an auth.json or a config dir the user may not read is one
// line that names it and the command that mends it (chmod when it is the
// user's, chown when another user's), in status, doctor, on entering a
// project and in exec; the secret never shows; doctor --fix mends the
// config dir; once mended, everything works again.
func TestUnreadableAuthAndConfigDir(t *testing.T) {
	t.Parallel()
	u := testsys.AddUser(t)
	o := newUserOca(t, u, "OCA_AUTOSTART=0")
	proj := filepath.Join(u.Home, "proj")
	run := func(dir string, args ...string) (stdout, stderr string, err error) {
		t.Helper()
		stdout, stderr, err = o.Run(dir, args...)
		if strings.Contains(stdout+stderr, "sk-SECRET") {
			t.Errorf("oca %s showed the key:\n%s%s", strings.Join(args, " "), stdout, stderr)
		}
		return stdout, stderr, err
	}
	must, as := o.Must, o.As
	must(u.Home, "account", "add", "work")
	auth := filepath.Join(u.Home, ".local/share/oca/accounts/work/opencode/auth.json")
	cdir := filepath.Join(u.Home, ".config/oca/accounts/work")
	as("mkdir", "-p", filepath.Dir(auth), proj)
	as("sh", "-c", `umask 077 && printf '%s' '{"openai":{"type":"api","key":"sk-SECRET"}}' > "$1"`, "sh", auth)
	must(proj, "init", "work")

	says := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s does not say %q:\n%s", what, w, got)
			}
		}
	}
	everywhere := func(want ...string) {
		t.Helper()
		out, _, _ := run(u.Home, "status")
		says("oca status", out, want...)
		out, _, err := run(u.Home, "doctor")
		if err == nil {
			t.Errorf("oca doctor found nothing wrong:\n%s", out)
		}
		says("oca doctor", out, want...)
		_, errOut, err := run(proj, "export", "bash")
		if err != nil {
			t.Errorf("oca export: %v", err)
		}
		if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines > 2 {
			t.Errorf("entering says %d lines, want the account's and one more:\n%s", lines, errOut)
		}
		says("entering", errOut, want...)
	}

	// auth.json of the user's own, mode 000.
	as("chmod", "000", auth)
	everywhere(auth + ": permission denied; mend with: chmod 600 " + auth)
	out, _, _ := run(u.Home, "status")
	says("oca status", out, "work: providers unknown: reading "+auth)
	as("chmod", "600", auth)
	if out := must(u.Home, "status"); !strings.Contains(out, "openai (key)") {
		t.Errorf("after chmod 600, status does not list the login:\n%s", out)
	}

	// auth.json of root's, as one written with sudo would be.
	if err := os.Chown(auth, 0, 0); err != nil {
		t.Fatal(err)
	}
	everywhere("permission denied (it belongs to root); mend with: sudo chown " + u.Name + " " + auth + " && chmod 600 " + auth)
	if err := os.Chown(auth, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}

	// The config dir, mode 000: refused everywhere the account is used,
	// and doctor --fix gives it back its mode, keeping what it holds.
	as("sh", "-c", `printf '{}' > "$1/opencode.json" && chmod 000 "$1"`, "sh", cdir)
	unreadable := "config dir " + cdir + " cannot be read (permission denied): refusing it; mend with: chmod 700 " + cdir
	out, _, _ = run(u.Home, "doctor")
	says("oca doctor", out, unreadable, "fix: chmod 700 "+cdir)
	if strings.Contains(out, "account work: account work") || strings.Contains(out, "rm ") {
		t.Errorf("oca doctor repeats the account or suggests rm:\n%s", out)
	}
	_, errOut, _ := run(proj, "export", "bash")
	says("entering", errOut, unreadable)
	_, errOut, err := run(proj, "exec", "work", "--", "true")
	if err == nil {
		t.Error("oca exec ran with an unreadable config dir")
	}
	says("oca exec", errOut, unreadable)
	out = must(u.Home, "doctor", "--fix")
	if fi, err := os.Stat(cdir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("after doctor --fix the config dir is %v (%v), want mode 0700:\n%s", fi, err, out)
	}
	if _, err := os.Stat(filepath.Join(cdir, "opencode.json")); err != nil {
		t.Errorf("doctor --fix lost the config dir's file: %v", err)
	}
	must(proj, "exec", "work", "--", "true")
	if out, _, err := run(u.Home, "doctor"); err != nil {
		t.Errorf("oca doctor after the fixes: %v\n%s", err, out)
	}
}
