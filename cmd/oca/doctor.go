package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/doctor"
	"github.com/oca-sh/oca/shells"
)

// testedOpencode is the OpenCode release line oca is tested with.
const testedOpencode = "1.18."

func (a *app) cmdDoctor(asJSON, fix bool) error {
	env := hook.EnvFrom(a.env)
	findings := doctor.Run(doctor.Input{
		Env:      env,
		PWD:      a.wd,
		Shell:    filepath.Base(env["SHELL"]),
		Self:     a.self,
		Fix:      fix,
		Opencode: opencodeVersion,
		Tested:   testedOpencode,
	})
	if asJSON {
		if err := a.writeJSON(findings); err != nil {
			return err
		}
	} else {
		st := a.style()
		for _, f := range findings {
			// Pad, then colour: escape codes have no width on a terminal.
			word := fmt.Sprintf("%-7s", f.Severity)
			mark := map[doctor.Severity]func(string) string{doctor.OK: st.green, doctor.Warn: st.yellow, doctor.Error: st.red}[f.Severity](word)
			fmt.Fprintf(a.stdout, "%s  %s: %s\n", mark, f.Check, shells.Printable(f.What))
			if f.Fixed != "" {
				fmt.Fprintf(a.stdout, "         fixed: %s\n", shells.Printable(f.Fixed))
				continue
			}
			if f.Severity != doctor.OK {
				if f.Why != "" {
					fmt.Fprintf(a.stdout, "         why: %s\n", shells.Printable(f.Why))
				}
				if f.Fix != "" {
					fmt.Fprintf(a.stdout, "         fix: %s\n", shells.Printable(f.Fix))
				}
			}
		}
	}
	if doctor.Failed(findings) {
		return exitError(1)
	}
	return nil
}

// opencodeVersion runs `opencode --version`.
func opencodeVersion(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
