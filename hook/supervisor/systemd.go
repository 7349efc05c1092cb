package supervisor

import (
	"fmt"
	"strings"
)

// UnitName is the systemd user unit of an account's server.
func UnitName(account string) string { return "oca@" + account + ".service" }

// SystemdUnit is the template unit oca@.service: `oca serve %i` under the
// user's systemd, which then owns the supervisor's lifetime. ocaBin is the
// absolute path of oca; path is the PATH the supervisor gets (systemd's user
// manager has a short one, and opencode is often installed elsewhere).
func SystemdUnit(ocaBin, path string) string {
	var b strings.Builder
	b.WriteString("# oca: one OpenCode server per account, run by the user's systemd.\n")
	b.WriteString("# Written by `oca systemd install`; `oca systemd uninstall` removes it.\n")
	b.WriteString("[Unit]\n")
	b.WriteString("Description=OpenCode server of oca account %i\n")
	b.WriteString("\n[Service]\n")
	b.WriteString("Type=exec\n")
	fmt.Fprintf(&b, "ExecStart=%s serve %%i\n", systemdQuote(ocaBin))
	if path != "" {
		fmt.Fprintf(&b, "Environment=%s\n", systemdQuote("PATH="+path))
	}
	// oca serve restarts OpenCode itself and exits 0 when idle: systemd
	// restarts the supervisor only if it fails.
	b.WriteString("Restart=on-failure\n")
	b.WriteString("RestartSec=5\n")
	// oca serve stops OpenCode's process group with escalation on SIGTERM;
	// systemd kills what is left after TimeoutStopSec.
	b.WriteString("KillMode=mixed\n")
	b.WriteString("TimeoutStopSec=15\n")
	b.WriteString("\n[Install]\n")
	b.WriteString("WantedBy=default.target\n")
	return b.String()
}

// systemdQuote quotes a word for a unit file's command line or assignment:
// double quotes, with backslash, double quote, and the specifier % escaped.
func systemdQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\%$;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$")
	return `"` + r.Replace(s) + `"`
}
