package main

// oca doctor: what is wrong with this setup, and how to mend it.

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/doctor"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

// testedOpencode is the OpenCode 1.x release line oca is tested with.
const testedOpencode = "1.18."

type doctorOptions struct {
	*app
	JSON bool
	Fix  bool // mend what is safe to mend
}

func newDoctorCmd(a *app) *cobra.Command {
	opts := &doctorOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "doctor", Short: "what is wrong with this setup, and how to mend it",
		Example: examples(`oca doctor
			oca doctor --fix`),
		RunE: func(c *cobra.Command, args []string) error { return doctorRun(opts) },
	})
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	c.Flags().BoolVar(&opts.Fix, "fix", false, "mend what is safe to mend (permissions, links, stale files) and say what changed")
	return c
}

func doctorRun(opts *doctorOptions) error {
	env := hook.EnvFrom(opts.env)
	findings := doctor.Run(doctor.Input{
		Env:      env,
		PWD:      opts.wd,
		Shell:    filepath.Base(env["SHELL"]),
		Self:     opts.self,
		Fix:      opts.Fix,
		Opencode: opts.detect,
		Tested:   testedOpencode,
		SystemdEnabled: func(name string) error {
			// show needs the user manager; is-enabled reads the unit files,
			// and would call a unit enabled where no manager runs.
			unit := supervisor.UnitName(name)
			if err := opts.systemctlWithin(10*time.Second, "show", "--property=ActiveState", unit); err != nil {
				return err
			}
			return opts.systemctlWithin(10*time.Second, "is-enabled", unit)
		},
		Unit: func() (path, have, want string, err error) {
			reg, err := opts.registry()
			if err != nil {
				return "", "", "", err
			}
			path = unitPath(reg.Dirs())
			b, err := os.ReadFile(path)
			return path, string(b), opts.unitText(reg), err
		},
	})
	if opts.JSON {
		if err := opts.writeJSON(findings); err != nil {
			return err
		}
	} else {
		st := opts.style()
		for _, f := range findings {
			// Pad, then colour: escape codes have no width on a terminal.
			word := fmt.Sprintf("%-7s", f.Severity)
			mark := map[doctor.Severity]func(string) string{doctor.OK: st.green, doctor.Warn: st.yellow, doctor.Error: st.red}[f.Severity](word)
			fmt.Fprintf(opts.stdout, "%s  %s: %s\n", mark, f.Check, shells.Printable(f.What))
			if f.Fixed != "" {
				fmt.Fprintf(opts.stdout, "         fixed: %s\n", shells.Printable(f.Fixed))
				continue
			}
			if f.Severity != doctor.OK {
				if f.Why != "" {
					fmt.Fprintf(opts.stdout, "         why: %s\n", shells.Printable(f.Why))
				}
				if f.Fix != "" {
					fmt.Fprintf(opts.stdout, "         fix: %s\n", shells.Printable(f.Fix))
				}
			}
		}
	}
	if doctor.Failed(findings) {
		return exitError(1)
	}
	return nil
}
