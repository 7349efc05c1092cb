package main

// oca systemd: an account's server as a systemd user unit.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

// unitPath is where the template unit goes: the user's systemd directory.
func unitPath(dirs account.Dirs) string {
	return filepath.Join(filepath.Dir(dirs.Config), "systemd", "user", "oca@.service")
}

// unitText renders the unit with this oca and the user's PATH, as it is
// now (before oca changed it; oca's shim left out), with opencode's
// directory first: the supervisor under systemd gets the PATH the plain one
// is given, so that MCP servers and LSPs in ~/.local/bin or nvm are found
// alike. Entries a unit cannot carry (relative ones, control characters)
// are left out.
func (a *app) unitText(reg *account.Registry) string {
	orig, _, _ := a.environ()
	path := unitUserPATH(orig["PATH"])
	if oc, err := a.realOpencode(reg); err == nil {
		path = unitPATH(filepath.Dir(oc), path)
	}
	return supervisor.SystemdUnit(a.self, path)
}

// defaultUnitPATH is the unit's PATH when the user has none worth keeping.
const defaultUnitPATH = "/usr/local/bin:/usr/bin:/bin"

// unitUserPATH is the user's PATH as a unit carries it: its absolute
// entries, each once, without control characters.
func unitUserPATH(path string) string {
	var list []string
	for _, d := range strings.Split(path, ":") {
		if filepath.IsAbs(d) && !strings.ContainsFunc(d, unicode.IsControl) && !slices.Contains(list, d) {
			list = append(list, d)
		}
	}
	if len(list) == 0 {
		return defaultUnitPATH
	}
	return strings.Join(list, ":")
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

// systemdInstallRun writes the unit, enables the account's unit, and then
// marks the account as run by systemd. Whatever fails undoes what was done
// before it (the unit file as it was, the directories made for it, the
// unit enabled), so that a failed install leaves the account as it was:
// its server still started by oca itself.
func systemdInstallRun(opts *systemdOptions) error {
	acc, reg := opts.Account, opts.Registry
	unit := unitPath(reg.Dirs())
	name := supervisor.UnitName(acc.Name)
	var undo []func()
	reloaded := false
	rollback := func(err error) error {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		if reloaded {
			_ = opts.systemctl("daemon-reload") // the unit file as it was
		}
		return installFailed(acc.Name, err)
	}
	// The directories made for the unit go too, the deepest first (undo
	// runs last to first); only empty ones can.
	var made []string
	for d := filepath.Dir(unit); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		made = append(made, d)
	}
	for _, d := range slices.Backward(made) {
		undo = append(undo, func() { _ = os.Remove(d) })
	}
	if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
		return rollback(err)
	}
	if old, err := os.ReadFile(unit); err == nil {
		undo = append(undo, func() { _ = atomicfile.Write(unit, old, 0o644) })
	} else {
		undo = append(undo, func() { _ = os.Remove(unit) })
	}
	if err := atomicfile.Write(unit, []byte(opts.unitText(reg)), 0o644); err != nil {
		return rollback(err)
	}
	if err := opts.systemctl("daemon-reload"); err != nil {
		return rollback(err)
	}
	reloaded = true
	if err := opts.systemctl("enable", name); err != nil {
		return rollback(err)
	}
	undo = append(undo, func() { _ = opts.systemctl("disable", name) })
	if err := account.Update(reg.Dirs(), func(r *account.Registry) error { return r.SetSystemd(acc.Name, true) }); err != nil {
		return rollback(err)
	}
	fmt.Fprintf(opts.stdout, "wrote %s\n", unit)
	fmt.Fprintf(opts.stdout, "enabled %s: entering a project of %s starts it through systemd\n", name, acc.Name)
	return nil
}

// installFailed is why `oca systemd install` failed, once what it did is
// undone, and what to do.
func installFailed(name string, err error) error {
	if noUserManager(err) {
		return fmt.Errorf("no systemd user manager answers (%v): nothing installed, and oca goes on running the server of %s itself; run `oca systemd install %s` in a login session where systemd runs (loginctl enable-linger keeps it after you log out)", err, name, name)
	}
	return fmt.Errorf("%v: nothing installed, and oca goes on running the server of %s itself", err, name)
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
		return fmt.Errorf("%w (run it in your login session)", err)
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

// systemctlError is a `systemctl --user ARGS` that failed, with the first
// line it said (or why it could not run).
type systemctlError struct {
	args []string
	line string
}

func (e *systemctlError) Error() string {
	return fmt.Sprintf("systemctl --user %s: %s", strings.Join(e.args, " "), e.line)
}

// noUserManager tells whether err (a's systemctl's) says that no systemd
// user manager can be reached: none runs (a container, a session without
// one), or this shell does not know where it is.
func noUserManager(err error) bool {
	se := (*systemctlError)(nil)
	if !errors.As(err, &se) {
		return false
	}
	for _, s := range []string{"Failed to connect to bus", "not found on PATH", "XDG_RUNTIME_DIR not defined", "Failed to connect to user scope bus"} {
		if strings.Contains(se.line, s) {
			return true
		}
	}
	return false
}

// systemctl runs `systemctl --user ARGS`, for at most 30 s.
func (a *app) systemctl(args ...string) error {
	return a.systemctlWithin(30*time.Second, args...)
}

func (a *app) systemctlWithin(limit time.Duration, args ...string) error {
	bin, err := lookPath("systemctl", hook.EnvFrom(a.env)["PATH"])
	if err != nil {
		return &systemctlError{args, "systemctl is not found on PATH"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--user"}, args...)...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return &systemctlError{args, fmt.Sprintf("no answer within %s", limit)}
	}
	if err != nil {
		return &systemctlError{args, firstLine(string(out), err)}
	}
	return nil
}

// systemdStart starts the unit of acc, unless its supervisor runs; where
// systemd cannot (no user manager answers, the unit is gone), oca starts
// the supervisor itself and says so in one line on stderr, so that the
// account has its server all the same.
func (a *app) systemdStart(cfg supervisor.Config, acc *account.Account) (started bool, err error) {
	if running, err := supervisor.Running(cfg.StateDir); err != nil || running {
		return false, err
	}
	serr := a.systemctlWithin(10*time.Second, "start", "--no-block", supervisor.UnitName(acc.Name))
	if serr == nil {
		return true, nil
	}
	started, err = supervisor.Ensure(cfg, a.self, "serve", acc.Name)
	if err != nil {
		return false, fmt.Errorf("the server of %s runs under systemd (systemd = true in accounts.toml), which cannot start it (%v), nor can oca: %w", acc.Name, serr, err)
	}
	why := "systemd cannot start it"
	if noUserManager(serr) {
		why = "no systemd user manager answers"
	}
	fmt.Fprintf(a.stderr, "oca: the server of %s runs under systemd (systemd = true in accounts.toml), but %s (%v): oca runs it itself this time; mend with `oca systemd install %s` in a login session with systemd, or `oca systemd uninstall %s`\n",
		acc.Name, why, shells.Printable(serr.Error()), acc.Name, acc.Name)
	return started, nil
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
