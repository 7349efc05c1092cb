package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/server"
)

// accountStatus is one row of `oca status`: never a key or a password.
type accountStatus struct {
	Account    string   `json:"account"`
	Port       int      `json:"port"`
	URL        string   `json:"url"`
	DataHome   string   `json:"data_home"`
	Phase      string   `json:"phase"`
	PID        int      `json:"pid,omitempty"`
	Supervisor int      `json:"supervisor_pid,omitempty"`
	MemoryKB   int64    `json:"memory_kb,omitempty"`
	Uptime     string   `json:"uptime,omitempty"`
	UptimeSec  int64    `json:"uptime_seconds,omitempty"`
	Restarts   int      `json:"restarts"`
	Clients    int      `json:"clients"` // processes attached to the server (an OpenCode TUI, a run)
	LastError  string   `json:"last_error,omitempty"`
	Providers  []string `json:"providers"`
	Stale      bool     `json:"stale,omitempty"`
}

func (a *app) cmdStatus(args []string) error {
	fs := newFlags("status")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, _, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	reg, err := a.registry()
	if err != nil {
		return err
	}
	names := reg.Names()
	if len(pos) > 0 {
		names = pos
	}
	var rows []accountStatus
	for _, n := range names {
		acc, err := reg.Get(n)
		if err != nil {
			return err
		}
		rows = append(rows, statusOf(reg.Dirs(), acc))
	}
	if *asJSON {
		if rows == nil {
			rows = []accountStatus{}
		}
		return a.writeJSON(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(a.stderr, "no accounts yet; add one with: oca account add NAME")
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
		providers := strings.Join(r.Providers, ",")
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
	st := a.style()
	lines := strings.SplitAfter(table.String(), "\n")
	col := strings.Index(lines[0], "PHASE")
	for i, r := range rows {
		line := lines[i+1]
		if col < 0 || len(line) < col+len(r.Phase) || line[col:col+len(r.Phase)] != r.Phase {
			continue
		}
		phase := r.Phase
		switch r.Phase {
		case server.PhaseReady:
			phase = st.green(phase)
		case server.PhaseFailing:
			phase = st.red(phase)
		}
		lines[i+1] = line[:col] + phase + line[col+len(r.Phase):]
	}
	if _, err := io.WriteString(a.stdout, strings.Join(lines, "")); err != nil {
		return err
	}
	for _, r := range rows {
		if r.LastError != "" {
			fmt.Fprintf(a.stdout, "%s: last error: %s\n", r.Account, r.LastError)
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

func statusOf(dirs account.Dirs, acc *account.Account) accountStatus {
	r := accountStatus{Account: acc.Name, Port: acc.Port, URL: acc.URL(), DataHome: acc.DataHome, Providers: providers(acc.DataHome)}
	st, err := server.ReadStatus(dirs.RuntimeDir(acc.Name))
	if err != nil {
		r.Phase = "unknown"
		r.LastError = err.Error()
		return r
	}
	r.Phase, r.Restarts, r.LastError, r.Stale = st.Phase, st.Restarts, st.LastError, st.Stale
	if st.Stale || st.Phase == server.PhaseStopped {
		return r
	}
	r.PID, r.Supervisor = st.OpencodePID, st.SupervisorPID
	r.Clients, _, _ = server.Clients(acc.Port)
	if rss, err := server.ProcessRSS(st.OpencodePID); err == nil {
		r.MemoryKB = rss / 1024
	}
	if !st.OpencodeStartedAt.IsZero() {
		up := time.Since(st.OpencodeStartedAt).Round(time.Second)
		r.Uptime, r.UptimeSec = up.String(), int64(up.Seconds())
	}
	return r
}

// providers lists the provider names in the account's auth.json: its keys,
// never its values.
func providers(dataHome string) []string {
	data, err := os.ReadFile(filepath.Join(dataHome, "opencode", "auth.json"))
	if err != nil {
		return []string{}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return []string{}
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
