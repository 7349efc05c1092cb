package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/shells"
)

// checkServer looks at an account's server: an OpenCode left without its
// supervisor, a stale status file, a port held by another process, and a
// server that answers without the password.
func checkServer(dirs account.Dirs, a *account.Account) []Finding {
	var out []Finding
	check := "server " + a.Name
	stateDir := dirs.RuntimeDir(a.Name)
	st, err := supervisor.ReadStatus(stateDir)
	if err != nil {
		statusFile := filepath.Join(stateDir, "status.json")
		return []Finding{{Check: check, Severity: Warn, What: err.Error(),
			Why: "oca cannot tell the state of the server", Fix: "rm " + shells.Quote(statusFile),
			mend: func() error { return os.Remove(statusFile) }}}
	}
	if st.Orphan {
		out = append(out, Finding{Check: check, Severity: Error,
			What: fmt.Sprintf("OpenCode (pid %d) runs without its supervisor", st.OpencodePID),
			Why:  "nothing restarts it, stops it when idle, or reloads its credentials",
			Fix:  "oca server stop " + a.Name + " && oca server start " + a.Name})
	} else if st.Stale {
		statusFile := filepath.Join(stateDir, "status.json")
		out = append(out, Finding{Check: check, Severity: Warn,
			What: fmt.Sprintf("stale status file: its supervisor (pid %d) is gone", st.SupervisorPID),
			Why:  "it describes a server that no longer runs",
			Fix:  "oca doctor --fix", mend: func() error { return os.Remove(statusFile) }})
	}
	running := !st.Stale && (st.Phase == supervisor.PhaseReady || st.Phase == supervisor.PhaseStarting || st.Phase == supervisor.PhaseRestarting)
	if pie := (*opencode.PortInUseError)(nil); errors.As(opencode.VerifyListener(a.Port), &pie) {
		out = append(out, Finding{Check: check, Severity: Error,
			What: pie.Error() + ", not by the account's server",
			Why:  "another user holds the account's port: the server cannot start, and oca sends the password nowhere else",
			Fix:  fmt.Sprintf("have that user stop it, or give %s another port in %s", a.Name, dirs.AccountsFile())})
	} else if h, listening := opencode.PortHolder(a.Port); listening && (!running || h.PID != 0 && h.PID != st.OpencodePID && !st.Orphan) {
		who := "a process oca cannot see (another user's?)"
		if h.PID != 0 {
			who = fmt.Sprintf("pid %d (%s)", h.PID, h.Cmd)
		}
		fix := fmt.Sprintf("stop that process, or give %s another port in %s", a.Name, dirs.AccountsFile())
		if sup, stateDir := supervisor.SupervisorOf(h.PID); sup > 0 && h.PID != 0 {
			// An OpenCode killed would be restarted by its supervisor
			// (of an account renamed or removed by hand, by an oca of
			// before that was noticed): the supervisor is what to stop.
			who += fmt.Sprintf(", run by oca's supervisor pid %d of %s, which restarts it when it is killed", sup, stateDir)
			fix = fmt.Sprintf("kill %d   # the supervisor: it stops its OpenCode; or give %s another port in %s", sup, a.Name, dirs.AccountsFile())
		}
		out = append(out, Finding{Check: check, Severity: Error,
			What: fmt.Sprintf("port %d is held by %s, not by the account's server", a.Port, who),
			Why:  "the account's server cannot start on it",
			Fix:  fix})
	}
	if st.Phase == supervisor.PhaseReady && !st.Stale {
		if ok, _ := opencode.Health(context.Background(), a.Port, ""); ok {
			out = append(out, Finding{Check: check, Severity: Error,
				What: fmt.Sprintf("the server on port %d answers without a password", a.Port),
				Why:  "any local process can read the account's keys from it",
				Fix:  "oca server restart " + a.Name})
		}
	}
	if st.Phase == supervisor.PhaseFailing {
		out = append(out, Finding{Check: check, Severity: Error,
			What: "the server gave up: " + st.LastError,
			Why:  "the account has no server until this is mended",
			Fix:  "oca server logs " + a.Name + "; then: oca server restart " + a.Name})
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: check, Severity: OK, What: st.Phase})
	}
	return out
}
