package doctor

import (
	"errors"
	"github.com/oca-sh/oca/hook/opencode"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
)

// TestSystemdWithoutUserManager: an account with systemd = true where no
// systemd user manager answers is not a server that is ok, even stopped
// (issue 17, item 1: doctor called it "ok stopped").
func TestSystemdWithoutUserManager(t *testing.T) {
	env, dirs := world(t, 10991)
	if err := account.Update(dirs, func(r *account.Registry) error { return r.SetSystemd("work", true) }); err != nil {
		t.Fatal(err)
	}
	noBus := errors.New("systemctl --user is-enabled oca@work.service: Failed to connect to bus: No medium found")
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", SystemdEnabled: func(string) error { return noBus }})
	f := finding(fs, "server work", "Failed to connect to bus")
	if f == nil || f.Severity != Error || !strings.Contains(f.Fix, "oca systemd install work") || !strings.Contains(f.Fix, "oca systemd uninstall work") {
		t.Fatalf("no error for the unit that cannot start: %+v", fs)
	}
	for _, f := range fs {
		if f.Check == "server work" && f.Severity == OK {
			t.Errorf("doctor calls the server ok: %+v", f)
		}
	}
	// With a user manager that has the unit enabled: ok.
	fs = Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", SystemdEnabled: func(string) error { return nil }})
	if f := finding(fs, "server work", ""); f == nil || f.Severity != OK {
		t.Errorf("with the unit enabled: %+v", fs)
	}
}

// TestSystemdUnitPATHDrift: the unit's PATH is the user's at install; doctor
// says when the user's has changed since (issue 17, item 9).
func TestSystemdUnitPATHDrift(t *testing.T) {
	env, dirs := world(t, 10992)
	if err := account.Update(dirs, func(r *account.Registry) error { return r.SetSystemd("work", true) }); err != nil {
		t.Fatal(err)
	}
	unit := func(path string) string {
		return "[Service]\nExecStart=/usr/bin/oca serve %i\nEnvironment=PATH=" + path + "\n"
	}
	in := Input{Env: env, PWD: env["HOME"], Shell: "bash", Unit: func() (string, string, string, error) {
		return "/u/oca@.service", unit("/usr/bin:/bin"), unit("/home/u/.local/bin:/usr/bin:/bin"), nil
	}}
	f := finding(Run(in), "systemd", "is no longer yours")
	if f == nil || f.Severity != Warn || !strings.Contains(f.What, "(/usr/bin:/bin)") || !strings.Contains(f.What, "(/home/u/.local/bin:/usr/bin:/bin)") || !strings.Contains(f.Fix, "oca systemd install work") {
		t.Fatalf("no warning for a PATH that drifted: %+v", Run(in))
	}
	in.Unit = func() (string, string, string, error) {
		return "/u/oca@.service", unit("/usr/bin"), unit("/usr/bin"), nil
	}
	if f := finding(Run(in), "systemd", "as oca writes it"); f == nil || f.Severity != OK {
		t.Errorf("the same unit: %+v", Run(in))
	}
}

// TestSlowVersionProbe: `opencode --version` that ran out of time on a
// loaded machine says so, without calling OpenCode broken or advising a
// reinstall (issue 17, item 8: "does not run: signal: killed").
func TestSlowVersionProbe(t *testing.T) {
	env, _ := world(t, 10993)
	bin := t.TempDir() // an opencode on PATH, whether or not the machine has one
	if err := os.WriteFile(filepath.Join(bin, "opencode"), []byte("#!/bin/sh\nsleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env["PATH"] = bin + ":" + env["PATH"]
	fs := Run(Input{Env: env, PWD: env["HOME"], Shell: "bash", Opencode: func(string) (opencode.Version, error) {
		return opencode.Version{}, &SlowError{Limit: 90 * time.Second}
	}})
	f := finding(fs, "opencode", "took longer than 90 s")
	if f == nil || f.Severity != Warn || strings.Contains(f.What, "does not run") || strings.Contains(f.Fix, "npm install") {
		t.Fatalf("slow probe: %+v", fs)
	}
}
