package doctor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor"
)

// What differs for a user between OpenCode 1.x and 2 (the README's table),
// checked per account: OpenCode 1.x is never started on a database
// OpenCode 2 migrated; OpenCode 2's clients find the account's server
// registered in its state home; OpenCode 2 keeps its credentials in its
// database, which oca reads through the account's server.

// serving tells whether the account's supervisor says its server is ready.
func serving(dirs account.Dirs, a *account.Account) bool {
	st, err := supervisor.ReadStatus(dirs.RuntimeDir(a.Name))
	return err == nil && !st.Stale && st.Phase == supervisor.PhaseReady
}

// checkVersion: on OpenCode 1.x, the account's database is not one
// OpenCode 2 migrated; on OpenCode 2, a ready server is registered in the
// account's state home, where V2's own clients look.
func checkVersion(dirs account.Dirs, a *account.Account, v opencode.Version) []Finding {
	switch {
	case !v.Known():
		return nil
	case !v.V2():
		var me *opencode.MigratedError
		if err := opencode.CanRun(a.DataHome, v); errors.As(err, &me) {
			fix := me.Restore()
			if fix == "" {
				fix = "use OpenCode 2 for this account"
			}
			return []Finding{{Check: "database " + a.Name, Severity: Error,
				What: fmt.Sprintf("%s was served by %s, which migrates the database in place", filepath.Join(a.DataHome, "opencode", "opencode.db"), me.By),
				Why:  "OpenCode 1.x fails on it: oca starts none there until the OpenCode 1.x database is back",
				Fix:  fix}}
		}
		return nil
	}
	if a.External || a.StateHome == "" || !serving(dirs, a) {
		return nil
	}
	home := filepath.Join(a.StateHome, "opencode")
	if reg, ok := v.Registered(a.StateHome); !ok || reg.URL != opencode.URL(a.Port) {
		return []Finding{{Check: "v2 " + a.Name, Severity: Error,
			What: fmt.Sprintf("the server of %s is not registered in its state home (%s)", a.Name, home),
			Why:  "an OpenCode 2 started in its projects without oca (an editor, a script) would start a server of its own there",
			Fix:  "oca server restart " + a.Name}}
	}
	return []Finding{{Check: "v2 " + a.Name, Severity: OK,
		What: fmt.Sprintf("OpenCode 2 in %s's projects finds its server, registered in %s", a.Name, home)}}
}

// UnknownV2 is what oca says of an account's logins on OpenCode 2 when
// its server cannot tell them: never an empty list, which would read as
// "no logins".
const UnknownV2 = "unknown (OpenCode 2)"

// LoginsV2 are the account's credentials on OpenCode 2, as its running
// server lists them (labels, never a secret). ok is false when the server
// does not run or did not answer.
func LoginsV2(dirs account.Dirs, a *account.Account, v opencode.Version) (list []opencode.Integration, ok bool, err error) {
	if !serving(dirs, a) {
		return nil, false, nil
	}
	pw, err := account.Password(dirs, a.Name)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err = opencode.Client{Port: a.Port, Password: pw, Version: v}.Integrations(ctx)
	if err != nil {
		return nil, false, err
	}
	return list, true, nil
}

// checkLoginsV2 names the account's credentials on OpenCode 2, read
// through its server, or says they are unknown while it does not run.
func checkLoginsV2(dirs account.Dirs, a *account.Account, v opencode.Version) []Finding {
	check := "logins " + a.Name
	list, ok, err := LoginsV2(dirs, a, v)
	switch {
	case err != nil:
		return []Finding{{Check: check, Severity: Warn, What: UnknownV2 + ": its server did not list them: " + err.Error(),
			Why: "OpenCode 2 keeps credentials in its database, which oca reads through the account's server",
			Fix: "oca server restart " + a.Name}}
	case !ok:
		return []Finding{{Check: check, Severity: OK,
			What: UnknownV2 + ": they are in its database, which oca reads through its server (oca server start " + a.Name + ")"}}
	case len(list) == 0:
		return nil
	}
	names := make([]string, len(list))
	for i, in := range list {
		names[i] = in.String()
	}
	return []Finding{{Check: check, Severity: OK, What: strings.Join(names, ", ")}}
}
