package opencode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/regularfile"
)

// OpenCode 2's discovery, in a state home ($XDG_STATE_HOME): a client
// finds the user's one server through a registration in
// $XDG_STATE_HOME/opencode/, and starts one of its own when none answers
// there. oca gives each account a state home of its own and registers the
// account's supervised server there, so that a V2 client started without
// oca, in the account's environment, finds that server and no other.
//
// The 2.0 preview (measured): `serve --register` writes server.json
// ({id, version, url, pid}) itself, takes its password from the file
// `password` beside it (writing one when there is none, never over one that
// is there), deletes server.json when it stops, and stops itself within
// 10 s when server.json is gone or names another server. The stable line
// (its source): service.json ({id, version, url, pid, password}), a client
// checks that GET /api/info names the registered pid.

// Registration is what a state home says of the user's server.
type Registration struct {
	ID       string `json:"id,omitempty"`
	Version  string `json:"version,omitempty"`
	URL      string `json:"url"`
	PID      int    `json:"pid"`
	Password string `json:"password,omitempty"` // service.json only
}

func stateDir(stateHome string) string { return filepath.Join(stateHome, "opencode") }

// registrationFile is where v registers its server in stateHome.
func (v Version) registrationFile(stateHome string) string {
	if v.Preview {
		return filepath.Join(stateDir(stateHome), "server.json")
	}
	return filepath.Join(stateDir(stateHome), "service.json")
}

// PrepareServer readies stateHome for the account's server of version v
// before it starts: on the 2.0 preview, the password file the server takes
// its password from (written 0600, replacing whatever was there), and no
// registration of an earlier server (which would name another pid).
// Nothing for OpenCode 1.x.
func (v Version) PrepareServer(stateHome, password string) error {
	if !v.V2() {
		return nil
	}
	if err := os.MkdirAll(stateDir(stateHome), 0o700); err != nil {
		return fmt.Errorf("prepare %s: %w", stateDir(stateHome), err)
	}
	if err := v.Unregister(stateHome, 0); err != nil {
		return err
	}
	if v.Preview {
		if err := atomicfile.Write(filepath.Join(stateDir(stateHome), "password"), []byte(password), 0o600); err != nil {
			return fmt.Errorf("prepare the server's password: %w", err)
		}
	}
	return nil
}

// Register writes reg as the registration of stateHome, for the stable
// line, whose server oca starts without registering itself. The preview's
// server registers itself: nothing to do.
func (v Version) Register(stateHome string, reg Registration) error {
	if !v.V2() || v.Preview {
		return nil
	}
	b, err := json.Marshal(reg)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(v.registrationFile(stateHome), b, 0o600); err != nil {
		return fmt.Errorf("register the server: %w", err)
	}
	return nil
}

// Registered reads stateHome's registration, or says there is none.
func (v Version) Registered(stateHome string) (Registration, bool) {
	if !v.V2() {
		return Registration{}, false
	}
	b, _, err := regularfile.Read(v.registrationFile(stateHome), 64<<10, regularfile.NoLinks)
	var reg Registration
	if err != nil || json.Unmarshal(b, &reg) != nil || reg.URL == "" {
		return Registration{}, false
	}
	return reg, true
}

// Unregister removes stateHome's registration when it names pid (0: any):
// a server that died leaves its registration, and a client would send the
// password to whatever listens at its URL next.
func (v Version) Unregister(stateHome string, pid int) error {
	if !v.V2() {
		return nil
	}
	path := v.registrationFile(stateHome)
	if reg, ok := v.Registered(stateHome); ok && pid != 0 && reg.PID != pid {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the registration of a server gone: %w", err)
	}
	return nil
}
