package main

// oca status: accounts, servers and providers.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/doctor"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/shells"
	"github.com/spf13/cobra"
)

// accountStatus is one row of `oca status`: never a key or a password.
type accountStatus struct {
	Account    string `json:"account"`
	Port       int    `json:"port"`
	URL        string `json:"url"`
	DataHome   string `json:"data_home"`
	Phase      string `json:"phase"`
	PID        int    `json:"pid,omitempty"`
	Supervisor int    `json:"supervisor_pid,omitempty"`
	MemoryKB   int64  `json:"memory_kb,omitempty"`
	Uptime     string `json:"uptime,omitempty"`
	UptimeSec  int64  `json:"uptime_seconds,omitempty"`
	Restarts   int    `json:"restarts"`
	Clients    int    `json:"clients"` // processes attached to the server (an OpenCode TUI, a run)
	LastError  string `json:"last_error,omitempty"`
	Providers  []any  `json:"providers"` // account.Login.JSON, in name order
	Stale      bool   `json:"stale,omitempty"`
	PortHolder string `json:"port_holder,omitempty"` // another user's process on the port
	AuthError  string `json:"auth_error,omitempty"`  // why auth.json could not be read
	// Opencode is the OpenCode the account runs, as oca names it, and
	// OpencodeLine its line: V1, V2, V2 preview, or unknown.
	Opencode     string `json:"opencode"`
	OpencodeLine string `json:"opencode_line"`
	// ProvidersUnknown says why Providers is null: OpenCode 2 keeps its
	// credentials in its database, read through its server, which does
	// not run (or did not answer).
	ProvidersUnknown string   `json:"providers_unknown,omitempty"`
	logins           []string // the providers as the table shows them
}

type statusOptions struct {
	*app
	Accounts []string // none: all of them
	JSON     bool
}

func newStatusCmd(a *app) *cobra.Command {
	opts := &statusOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "status [ACCOUNT...]", Short: "what applies here and why; accounts, servers (phase, pid, port, memory, uptime, restarts, clients), providers",
		Example: examples(`oca status
			oca status work --json`),
		RunE: func(c *cobra.Command, args []string) error { opts.Accounts = args; return statusRun(opts) },
	})
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return c
}

func statusRun(opts *statusOptions) error {
	reg, accs, err := opts.accounts(opts.Accounts)
	if err != nil {
		return err
	}
	// Which OpenCode the accounts run: the one binary of the accounts
	// file, or of PATH.
	var v opencode.Version
	what, bin := "", ""
	if real, err := opts.realOpencode(reg); err != nil {
		what = "not found: " + err.Error()
	} else if v, err = opts.detect(real); err != nil {
		what, bin = err.Error(), real
	} else {
		what, bin = v.String(), real
	}
	var rows []accountStatus
	for _, acc := range accs {
		r := statusOf(reg.Dirs(), acc, v)
		r.Opencode, r.OpencodeLine = what, major(v)
		rows = append(rows, r)
	}
	if len(opts.Accounts) == 0 {
		// No account named: what applies here leads (explain.go).
		if done, err := opts.here(reg, rows); done || err != nil {
			return err
		}
	}
	if opts.JSON {
		if rows == nil {
			rows = []accountStatus{}
		}
		return opts.writeJSON(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(opts.stderr, "no accounts yet; add one with: oca account add NAME")
		return nil
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tPHASE\tPID\tURL\tMEMORY\tUPTIME\tRESTARTS\tCLIENTS\tPROVIDERS")
	for _, r := range rows {
		mem, pid := "-", "-"
		if r.MemoryKB > 0 {
			mem = fmt.Sprintf("%d MB", r.MemoryKB/1024)
		}
		if r.PID > 0 {
			pid = fmt.Sprint(r.PID)
		}
		providers := shells.Printable(strings.Join(r.logins, ", "))
		if providers == "" {
			providers = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.Account, r.Phase, pid, r.URL, mem, orDash(r.Uptime), r.Restarts, r.Clients, providers)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Colour the phases once the columns are laid out: escape codes have
	// no width on a terminal, but tabwriter would count them.
	st := opts.style()
	lines := strings.SplitAfter(table.String(), "\n")
	col := strings.Index(lines[0], "PHASE")
	for i, r := range rows {
		line := lines[i+1]
		if col < 0 || len(line) < col+len(r.Phase) || line[col:col+len(r.Phase)] != r.Phase {
			continue
		}
		phase := r.Phase
		switch r.Phase {
		case supervisor.PhaseReady:
			phase = st.green(phase)
		case supervisor.PhaseFailing:
			phase = st.red(phase)
		}
		lines[i+1] = line[:col] + phase + line[col+len(r.Phase):]
	}
	if _, err := io.WriteString(opts.stdout, strings.Join(lines, "")); err != nil {
		return err
	}
	if bin != "" {
		fmt.Fprintf(opts.stdout, "opencode: %s (%s), %s\n", shells.Printable(what), major(v), shells.Printable(bin))
	} else {
		fmt.Fprintf(opts.stdout, "opencode: %s\n", shells.Printable(what))
	}
	for _, r := range rows {
		if r.ProvidersUnknown != "" && r.ProvidersUnknown != doctor.UnknownV2 {
			fmt.Fprintf(opts.stdout, "%s: providers %s\n", r.Account, shells.Printable(r.ProvidersUnknown))
		}
		if r.LastError != "" {
			fmt.Fprintf(opts.stdout, "%s: last error: %s\n", r.Account, shells.Printable(r.LastError))
		}
		if r.PortHolder != "" {
			fmt.Fprintf(opts.stdout, "%s: %s, not the account's server\n", r.Account, shells.Printable(r.PortHolder))
		}
		if r.AuthError != "" {
			fmt.Fprintf(opts.stdout, "%s: providers unknown: %s\n", r.Account, shells.Printable(r.AuthError))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusOf is the row of acc, whose OpenCode is v: its logins from
// auth.json (OpenCode 1.x), or from its server (OpenCode 2).
func statusOf(dirs account.Dirs, acc *account.Account, v opencode.Version) accountStatus {
	r := accountStatus{Account: acc.Name, Port: acc.Port, URL: acc.URL(), DataHome: acc.DataHome, Providers: []any{}}
	now := time.Now()
	if v.V2() {
		r.v2Logins(dirs, acc, v)
	} else {
		logins, err := account.ReadLogins(acc.DataHome)
		if err != nil {
			r.AuthError = err.Error()
		}
		for _, l := range logins {
			r.Providers = append(r.Providers, l.JSON(now))
			r.logins = append(r.logins, l.Short(now))
		}
	}
	st, err := supervisor.ReadStatus(dirs.RuntimeDir(acc.Name))
	if err != nil {
		r.Phase = "unknown"
		r.LastError = err.Error()
		return r
	}
	r.Phase, r.Restarts, r.LastError, r.Stale = st.Phase, st.Restarts, st.LastError, st.Stale
	if pie := (*opencode.PortInUseError)(nil); errors.As(opencode.VerifyListener(acc.Port), &pie) {
		r.PortHolder = pie.Error()
	}
	if st.Stale || st.Phase == supervisor.PhaseStopped {
		return r
	}
	r.PID, r.Supervisor = st.OpencodePID, st.SupervisorPID
	r.Clients, _, _ = supervisor.Clients(acc.Port, st.SupervisorPID)
	if rss, err := procfs.RSS(st.OpencodePID); err == nil {
		r.MemoryKB = rss / 1024
	}
	if !st.OpencodeStartedAt.IsZero() {
		up := time.Since(st.OpencodeStartedAt).Round(time.Second)
		r.Uptime, r.UptimeSec = up.String(), int64(up.Seconds())
	}
	return r
}

// v2Logins fills the row's providers on OpenCode 2: what its running
// server lists (labels, never a secret), else unknown, never an empty list.
func (r *accountStatus) v2Logins(dirs account.Dirs, acc *account.Account, v opencode.Version) {
	list, ok, err := doctor.LoginsV2(dirs, acc, v)
	if !ok {
		r.Providers, r.ProvidersUnknown, r.logins = nil, doctor.UnknownV2, []string{doctor.UnknownV2}
		if err != nil {
			r.ProvidersUnknown += ": " + err.Error()
		}
		return
	}
	for _, in := range list {
		creds, env := in.Credentials, in.Env
		if creds == nil {
			creds = []string{}
		}
		if env == nil {
			env = []string{}
		}
		r.Providers = append(r.Providers, map[string]any{"name": in.ID, "credentials": creds, "env": env})
		r.logins = append(r.logins, in.String())
	}
}
