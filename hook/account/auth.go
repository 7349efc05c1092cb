package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/oca-sh/oca/internal/regularfile"
	"github.com/oca-sh/oca/shells"
)

// maxAuthSize bounds what is read of an auth.json: OpenCode's is a few
// hundred bytes per provider.
const maxAuthSize = 1 << 20

// AuthFile is where OpenCode keeps an account's credentials.
func AuthFile(dataHome string) string {
	return filepath.Join(dataHome, "opencode", "auth.json")
}

// Login is one provider's entry of auth.json, without its secrets.
type Login struct {
	Name    string    // the provider, e.g. "anthropic"
	Type    string    // "api", "oauth", "wellknown", or what OpenCode wrote
	Expires time.Time // zero where the entry has no expiry
}

// Expired reports whether the login has an expiry that has passed.
func (l Login) Expired(now time.Time) bool {
	return !l.Expires.IsZero() && !now.Before(l.Expires)
}

// loginJSON is a Login as oca prints it: expires and expired only where the
// entry has an expiry.
type loginJSON struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Expires string `json:"expires,omitempty"`
	Expired *bool  `json:"expired,omitempty"`
}

// JSON renders the login for `status --json`, judged at now.
func (l Login) JSON(now time.Time) any {
	j := loginJSON{Name: l.Name, Type: l.Type}
	if !l.Expires.IsZero() {
		j.Expires = l.Expires.UTC().Format(time.RFC3339)
		e := l.Expired(now)
		j.Expired = &e
	}
	return j
}

// Short is the login as a table shows it: "openai (key)", "anthropic
// (oauth, expired 2h ago)", "github-copilot (oauth, expires in 3d)".
func (l Login) Short(now time.Time) string {
	kind := l.Type
	if kind == "api" {
		kind = "key"
	}
	switch {
	case l.Expires.IsZero():
	case l.Expired(now):
		kind += ", expired " + Ago(now.Sub(l.Expires)) + " ago"
	default:
		kind += ", expires in " + Ago(l.Expires.Sub(now))
	}
	return fmt.Sprintf("%s (%s)", l.Name, kind)
}

// Ago writes a duration the way a person says it: 45s, 12m, 2h, 3d.
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// ReadAuth reads the account's auth.json, the one way oca does: at most
// 1 MiB of it, and only a regular file that is not a link (ReadRegular). A
// missing file reads as empty.
func ReadAuth(dataHome string) ([]byte, error) {
	data, err := ReadRegular(AuthFile(dataHome), maxAuthSize)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return data, err
}

// ReadLogins reads the account's auth.json: its providers in name order,
// never a secret. A missing file is no logins. A file that is a link, a
// directory or anything but a regular file, that cannot be read, or that is
// not OpenCode's JSON, is an error that names it and says how to mend it.
func ReadLogins(dataHome string) ([]Login, error) {
	data, err := ReadAuth(dataHome)
	if err != nil {
		return nil, err
	}
	return ParseLogins(AuthFile(dataHome), data)
}

// AuthSecrets returns the secret values of an auth.json's content (every
// string field of a provider's entry but its type), for a redactor. What
// does not parse has none.
func AuthSecrets(data []byte) []string {
	var providers map[string]map[string]any
	if json.Unmarshal(data, &providers) != nil {
		return nil
	}
	var out []string
	for _, entry := range providers {
		for field, v := range entry {
			if s, ok := v.(string); ok && field != "type" {
				out = append(out, s)
			}
		}
	}
	return out
}

// ParseLogins parses the content of an auth.json read from path.
func ParseLogins(path string, data []byte) ([]Login, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var entries map[string]struct {
		Type    string          `json:"type"`
		Expires json.RawMessage `json:"expires"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("%s is not OpenCode's auth.json (%v); mend it, or log in again with: oca login", path, jsonProblem(err))
	}
	logins := make([]Login, 0, len(entries))
	for name, e := range entries {
		l := Login{Name: name, Type: e.Type}
		var ms float64
		if len(e.Expires) > 0 && json.Unmarshal(e.Expires, &ms) == nil && ms > 0 {
			l.Expires = time.UnixMilli(int64(ms))
		}
		logins = append(logins, l)
	}
	sort.Slice(logins, func(i, j int) bool { return logins[i].Name < logins[j].Name })
	return logins, nil
}

// jsonProblem describes a JSON error without quoting the content (which
// holds keys).
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("a %s where an object belongs, at byte %d", e.Value, e.Offset)
	}
	return "not JSON"
}

// ReadRegular reads at most limit bytes of path, and only from a regular
// file that is not a symbolic link: a link could point another account's
// credentials (or a device) into this one. A missing file is an error that
// os.IsNotExist recognises.
func ReadRegular(path string, limit int64) ([]byte, error) {
	data, _, err := regularfile.Read(path, limit, regularfile.NoLinks)
	var notRegular *regularfile.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case errors.As(err, &notRegular):
		return nil, fmt.Errorf("%w: refusing it; replace it with the file itself", err)
	case regularfile.Refused(err):
		return nil, fmt.Errorf("%w: refusing it", err)
	case errors.Is(err, fs.ErrPermission):
		cause, fix := Unreadable(path, err, "600")
		return nil, fmt.Errorf("reading %s: %s; mend with: %s", path, cause, fix)
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// ExpiredLogins is what entering a project says about the account's logins:
// one line for each OAuth login that has expired, none when auth.json is
// missing. An auth.json that cannot be read is one line that says why.
func ExpiredLogins(a *Account, now time.Time) []string {
	logins, err := ReadLogins(a.DataHome)
	if err != nil {
		return []string{fmt.Sprintf("account %s: %v", a.Name, err)}
	}
	var out []string
	for _, l := range logins {
		if l.Expired(now) {
			out = append(out, fmt.Sprintf("account %s: %s login expired %s ago; log in again with: oca login %s %s", a.Name, l.Name, Ago(now.Sub(l.Expires)), a.Name, shells.Quote(l.Name)))
		}
	}
	return out
}
