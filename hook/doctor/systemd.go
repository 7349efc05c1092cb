package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/oca-sh/oca/hook/account"
)

// checkSystemd looks at an account whose server runs under systemd
// (systemd = true): is its unit enabled, and does a user manager answer?
// Where none does, oca starts the server itself (with a line saying so),
// and nothing restarts it or starts it at login: not a server that is ok.
func checkSystemd(in Input, a *account.Account) []Finding {
	if !a.Systemd || in.SystemdEnabled == nil {
		return nil
	}
	err := in.SystemdEnabled(a.Name)
	if err == nil {
		return nil
	}
	return []Finding{{Check: "server " + a.Name, Severity: Error,
		What: fmt.Sprintf("it runs under systemd (systemd = true in accounts.toml), but %v", err),
		Why:  "systemd cannot start it: oca starts it itself instead, and nothing starts it at login or restarts its supervisor",
		Fix:  fmt.Sprintf("oca systemd install %s   # in a login session where systemd runs; or, to let oca run it: oca systemd uninstall %s", a.Name, a.Name)}}
}

// checkUnit compares the unit file oca@.service with what `oca systemd
// install` writes now: the PATH in it is the user's as it was at install,
// and MCP servers and LSPs the server starts are looked up on it.
func checkUnit(in Input, reg *account.Registry) []Finding {
	if in.Unit == nil {
		return nil
	}
	var first string
	for _, n := range reg.Names() {
		if reg.Accounts[n].Systemd {
			first = n
			break
		}
	}
	if first == "" {
		return nil
	}
	path, have, want, err := in.Unit()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []Finding{{Check: "systemd", Severity: Error, What: path + " is missing",
			Why: "accounts with systemd = true have no unit to run their server", Fix: "oca systemd install " + first}}
	case err != nil:
		return []Finding{{Check: "systemd", Severity: Warn, What: err.Error(),
			Why: "oca cannot tell whether the unit is as oca writes it", Fix: "oca systemd install " + first}}
	case have == want:
		return []Finding{{Check: "systemd", Severity: OK, What: path + " is as oca writes it, with your PATH"}}
	}
	if hp, wp := unitEnvPATH(have), unitEnvPATH(want); hp != wp {
		return []Finding{{Check: "systemd", Severity: Warn,
			What: fmt.Sprintf("the PATH in %s (%s) is no longer yours (%s)", path, hp, wp),
			Why:  "the servers systemd runs look up opencode, MCP servers and LSPs on the unit's PATH, captured at install",
			Fix:  "oca systemd install " + first + "   # writes the unit anew with your PATH"}}
	}
	return []Finding{{Check: "systemd", Severity: Warn,
		What: path + " is not what `oca systemd install` writes now",
		Why:  "it may run another oca, or miss a mending of the unit",
		Fix:  "oca systemd install " + first}}
}

// unitEnvPATH is the PATH a unit's text sets ("" for none).
func unitEnvPATH(unit string) string {
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			v = strings.Trim(v, `"`)
			if p, ok := strings.CutPrefix(v, "PATH="); ok {
				return p
			}
		}
	}
	return ""
}
