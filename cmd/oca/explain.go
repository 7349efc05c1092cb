package main

// What applies in the working directory, and why: the lead of `oca status`
// with no account named.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/shim"
	"github.com/oca-sh/oca/projectfile"
	"github.com/oca-sh/oca/shells"
)

// hereStatus is what applies in a directory, and why.
type hereStatus struct {
	Dir  string `json:"dir"`
	File string `json:"file"` // the nearest project file, "" for none
	// Account is the account the file names; Verdict is the trust
	// decision on it: allowed, trusted (by trusted_paths), untrusted,
	// denied, broken (the file cannot be read or parsed), or
	// unknown-account (it names an account the user does not have).
	Account string   `json:"account,omitempty"`
	Verdict string   `json:"verdict,omitempty"`
	Applies bool     `json:"applies"`
	Why     []string `json:"why,omitempty"`  // why it does not apply, a reason each
	Mend    string   `json:"mend,omitempty"` // the command that makes it apply
	// Bound is the account this process's environment is bound to, and
	// BoundBy what bound it: "hook" (the shell's) or "exec" (oca exec, or
	// oca's opencode, which leave the same record).
	Bound   string `json:"bound,omitempty"`
	BoundBy string `json:"bound_by,omitempty"`
	// Opencode is the first opencode on PATH; ShimActive tells whether it
	// is oca's (a shim: a hook's, or a login profile's `oca shims`).
	Opencode   string `json:"opencode,omitempty"`
	ShimActive bool   `json:"shim_active"`
	Phase      string `json:"phase,omitempty"` // the server's, of the account that applies (or the bound one)
}

// explainHere works out hereStatus for the working directory. It reads
// and changes nothing but what the hook's own judgement records.
func (a *app) explainHere(reg *account.Registry) hereStatus {
	h := hereStatus{Dir: a.wd}
	env := hook.EnvFrom(a.env)
	switch {
	case env[hook.StateVar] != "" && env["OPENCODE_ACCOUNT"] != "":
		h.Bound, h.BoundBy = env["OPENCODE_ACCOUNT"], "hook"
	case env[hook.ExecVar] != "" && env["OPENCODE_ACCOUNT"] != "":
		h.Bound, h.BoundBy = env["OPENCODE_ACCOUNT"], "exec"
	}
	h.Opencode, h.ShimActive = a.firstOpencode(env["PATH"])
	h.File = projectfile.Find(a.wd)
	if h.File != "" {
		a.judgeHere(reg, &h)
	}
	phaseOf := h.Bound
	if h.Applies {
		phaseOf = h.Account
	}
	if acc, err := reg.Get(phaseOf); phaseOf != "" && err == nil {
		h.Phase = statusOf(reg.Dirs(), acc, opencode.Version{}).Phase // the phase alone: no version asked
	}
	return h
}

// judgeHere is the trust decision on h.File, as the hook makes it, and
// the reasons when it does not apply.
func (a *app) judgeHere(reg *account.Registry, h *hereStatus) {
	trust := projectfile.Trust{Dir: reg.Dirs().TrustDir()}
	var tps []string
	j, err := trust.Judge(h.File, func(name string) ([]string, error) {
		acc, err := reg.Get(name)
		if err != nil {
			return nil, err
		}
		tps = acc.TrustedPaths
		return tps, nil
	})
	if j != nil && j.File != nil {
		h.Account = j.File.Account
	}
	dir := shells.Quote(filepath.Dir(h.File))
	var nf *account.NotFoundError
	switch {
	case errors.As(err, &nf):
		h.Verdict, h.Why, h.Mend = "unknown-account", []string{fmt.Sprintf("it names account %s, which you do not have", nf.Name)}, "oca account add "+nf.Name
	case err != nil:
		h.Verdict, h.Why, h.Mend = "broken", []string{err.Error()}, "mend the file, then: oca allow "+dir
	default:
		h.Verdict = j.Verdict.String()
		h.Applies = j.Verdict == projectfile.Allowed || j.Verdict == projectfile.Trusted
		h.Why = trust.Why(h.File, j, tps)
		if !h.Applies {
			h.Mend = "oca allow " + dir
		}
	}
}

// firstOpencode is the first opencode on path, and whether it is oca's.
func (a *app) firstOpencode(path string) (string, bool) {
	self, _ := os.Stat(a.self)
	for _, d := range strings.Split(path, ":") {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, shim.Name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		return p, self != nil && os.SameFile(fi, self)
	}
	return "", false
}

// writeHere prints h on one screen: a line each.
func writeHere(w io.Writer, h hereStatus, st style) {
	p := shells.Printable
	fmt.Fprintf(w, "here:         %s\n", p(h.Dir))
	switch {
	case h.File == "":
		fmt.Fprintln(w, "project file: none (no .opencode-account.toml here or above)")
	case h.Account != "":
		fmt.Fprintf(w, "project file: %s (account %s)\n", p(h.File), p(h.Account))
	default:
		fmt.Fprintf(w, "project file: %s\n", p(h.File))
	}
	if h.File != "" {
		switch {
		case h.Applies && h.Verdict == projectfile.Trusted.String():
			fmt.Fprintf(w, "applies:      %s (under the account's trusted_paths)\n", st.green("yes"))
		case h.Applies:
			fmt.Fprintf(w, "applies:      %s (allowed)\n", st.green("yes"))
		default:
			fmt.Fprintf(w, "applies:      %s: %s\n", st.red("no"), p(strings.Join(h.Why, "; ")))
			fmt.Fprintf(w, "              to mend: %s\n", p(h.Mend))
		}
	}
	switch h.BoundBy {
	case "hook":
		fmt.Fprintf(w, "this shell:   bound to %s by oca's hook\n", p(h.Bound))
	case "exec":
		fmt.Fprintf(w, "this shell:   bound to %s by oca exec (or oca's opencode)\n", p(h.Bound))
	default:
		fmt.Fprintln(w, "this shell:   not bound (no hook ran here, or nothing applies)")
	}
	switch {
	case h.ShimActive:
		fmt.Fprintf(w, "opencode:     oca's shim (%s)\n", p(h.Opencode))
	case h.Opencode != "":
		fmt.Fprintf(w, "opencode:     %s, not oca's shim\n", p(h.Opencode))
	default:
		fmt.Fprintln(w, "opencode:     not on PATH")
	}
	if h.Phase != "" {
		name := h.Account
		if !h.Applies {
			name = h.Bound
		}
		fmt.Fprintf(w, "server:       %s %s\n", p(name), h.Phase)
	}
}

// here leads `oca status` with no account named: with --json it prints
// {"here": ..., "accounts": [...]} and is done; else it prints what
// applies here, and a blank line before the accounts' table.
func (opts *statusOptions) here(reg *account.Registry, rows []accountStatus) (done bool, err error) {
	h := opts.explainHere(reg)
	if opts.JSON {
		if rows == nil {
			rows = []accountStatus{}
		}
		return true, opts.writeJSON(struct {
			Here     hereStatus      `json:"here"`
			Accounts []accountStatus `json:"accounts"`
		}{h, rows})
	}
	writeHere(opts.stdout, h, opts.style())
	_, err = fmt.Fprintln(opts.stdout)
	return false, err
}
