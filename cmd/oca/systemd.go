package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/internal/atomicfile"
)

// unitPath is where the template unit goes: the user's systemd directory.
func unitPath(dirs account.Dirs) string {
	return filepath.Join(filepath.Dir(dirs.Config), "systemd", "user", "oca@.service")
}

// unitText renders the unit with this oca and a PATH that finds opencode.
func (a *app) unitText(reg *account.Registry) string {
	path := "/usr/local/bin:/usr/bin:/bin"
	if oc, err := a.opencodePath(reg); err == nil {
		path = unitPATH(filepath.Dir(oc), path)
	}
	return supervisor.SystemdUnit(a.self, path)
}

// unitPATH puts dir first on path, once: opencode in /usr/bin leaves the
// PATH as it is.
func unitPATH(dir, path string) string {
	list := []string{dir}
	for _, d := range strings.Split(path, ":") {
		if d != dir {
			list = append(list, d)
		}
	}
	return strings.Join(list, ":")
}

func (a *app) cmdSystemd(sub string, pos []string) error {
	switch sub {
	case "print":
		reg, err := a.registry()
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(a.stdout, a.unitText(reg))
		return err
	}
	acc, reg, err := a.pick(pos)
	if err != nil {
		return err
	}
	dirs := reg.Dirs()
	unit := unitPath(dirs)
	name := supervisor.UnitName(acc.Name)
	if sub == "install" {
		if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(unit, []byte(a.unitText(reg)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "wrote %s\n", unit)
		if err := account.Update(dirs, func(r *account.Registry) error { return r.SetSystemd(acc.Name, true) }); err != nil {
			return err
		}
		if err := a.systemctl("daemon-reload"); err != nil {
			return err
		}
		if err := a.systemctl("enable", name); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "enabled %s: entering a project of %s starts it through systemd\n", name, acc.Name)
		return nil
	}
	if err := account.Update(dirs, func(r *account.Registry) error { return r.SetSystemd(acc.Name, false) }); err != nil {
		return err
	}
	if err := a.systemctl("disable", "--now", name); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "disabled %s\n", name)
	reg, err = a.registry()
	if err != nil {
		return err
	}
	for _, n := range reg.Names() {
		if reg.Accounts[n].Systemd {
			return nil
		}
	}
	if err := os.Remove(unit); err != nil && !os.IsNotExist(err) {
		return err
	}
	fmt.Fprintf(a.stdout, "removed %s (no account uses it)\n", unit)
	return a.systemctl("daemon-reload")
}

// systemctl runs `systemctl --user ARGS`, with an error that says what to
// run by hand when the user's systemd cannot be reached.
func (a *app) systemctl(args ...string) error {
	bin, err := lookPath("systemctl", hook.EnvFrom(a.env)["PATH"])
	if err != nil {
		return fmt.Errorf("systemctl not found: run `systemctl --user %s` where systemd runs", strings.Join(args, " "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"--user"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl --user %s: %s (run it in your login session)", strings.Join(args, " "), firstLine(string(out), err))
	}
	return nil
}

func firstLine(out string, err error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); line != "" {
		return line
	}
	return err.Error()
}
