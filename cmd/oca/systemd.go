package main

// oca systemd: an account's server as a systemd user unit.

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
	"github.com/spf13/cobra"
)

// unitPath is where the template unit goes: the user's systemd directory.
func unitPath(dirs account.Dirs) string {
	return filepath.Join(filepath.Dir(dirs.Config), "systemd", "user", "oca@.service")
}

// unitText renders the unit with this oca and a PATH that finds opencode.
func (a *app) unitText(reg *account.Registry) string {
	path := "/usr/local/bin:/usr/bin:/bin"
	if oc, err := a.realOpencode(reg); err == nil {
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

type systemdOptions struct {
	*app
	picked
}

// newSystemdUnitCmd is install or uninstall: alike but for what they do.
func newSystemdUnitCmd(a *app, verb, short string, run func(*systemdOptions) error) *cobra.Command {
	opts := &systemdOptions{app: a}
	return a.command(&cobra.Command{
		Use: verb + " [ACCOUNT]", Short: short,
		Example: examples("oca systemd " + verb + " work"),
		RunE:    opts.runE(a, func() error { return run(opts) }),
	})
}

func systemdPrintRun(a *app) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, a.unitText(reg))
	return err
}

// systemdInstallRun writes the unit, marks the account as run by systemd,
// and enables its unit.
func systemdInstallRun(opts *systemdOptions) error {
	acc, reg := opts.Account, opts.Registry
	unit := unitPath(reg.Dirs())
	if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(unit, []byte(opts.unitText(reg)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "wrote %s\n", unit)
	if err := account.Update(reg.Dirs(), func(r *account.Registry) error { return r.SetSystemd(acc.Name, true) }); err != nil {
		return err
	}
	if err := opts.systemctl("daemon-reload"); err != nil {
		return err
	}
	name := supervisor.UnitName(acc.Name)
	if err := opts.systemctl("enable", name); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "enabled %s: entering a project of %s starts it through systemd\n", name, acc.Name)
	return nil
}

// systemdUninstallRun disables the account's unit, and removes the unit
// when no account uses it any more.
func systemdUninstallRun(opts *systemdOptions) error {
	acc, reg := opts.Account, opts.Registry
	if err := account.Update(reg.Dirs(), func(r *account.Registry) error { return r.SetSystemd(acc.Name, false) }); err != nil {
		return err
	}
	name := supervisor.UnitName(acc.Name)
	if err := opts.systemctl("disable", "--now", name); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "disabled %s\n", name)
	reg, err := opts.registry()
	if err != nil {
		return err
	}
	for _, n := range reg.Names() {
		if reg.Accounts[n].Systemd {
			return nil
		}
	}
	unit := unitPath(reg.Dirs())
	if err := os.Remove(unit); err != nil && !os.IsNotExist(err) {
		return err
	}
	fmt.Fprintf(opts.stdout, "removed %s (no account uses it)\n", unit)
	return opts.systemctl("daemon-reload")
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

func newSystemdCmd(a *app) *cobra.Command {
	return group("systemd", "run an account's server as a systemd user unit", `oca systemd install work
		oca systemd print`,
		newSystemdUnitCmd(a, "install", "write the unit oca@.service, enable oca@ACCOUNT", systemdInstallRun),
		newSystemdUnitCmd(a, "uninstall", "disable oca@ACCOUNT; remove the unit when no account uses it", systemdUninstallRun),
		a.command(&cobra.Command{
			Use: "print", Short: "print the unit oca@.service",
			Example: examples(`oca systemd print`),
			RunE:    func(c *cobra.Command, args []string) error { return systemdPrintRun(a) },
		}))
}
