package hook

import (
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/projectfile"
)

// Which is the account that applies at in.PWD, as Export would bind it, and
// the messages that say why none does; "" when none does. Unlike Export it
// changes nothing: no stamps, no data home, no password, no leases (caches
// aside: the parsed record of the accounts file, see account.Load, and the
// trust store's record of a project file's last check, see
// projectfile.Trust.Judge).
func Which(in Input) (name string, messages []string, err error) {
	out := &Output{}
	// oca's directories come from the environment before oca, as Export
	// finds them: below `oca exec`, XDG_STATE_HOME is the account's, and
	// the trust records are not there.
	orig := Before(in.Env)
	dirs, err := account.DirsFrom(func(k string) string { return orig[k] })
	if err != nil {
		return "", nil, err
	}
	path := projectfile.Find(in.PWD)
	if path == "" {
		return "", nil, nil
	}
	b, _, err := bind(dirs, path, out)
	if err != nil {
		return "", nil, err
	}
	if b == nil {
		return "", out.Messages, nil
	}
	return b.account.Name, out.Messages, nil
}
