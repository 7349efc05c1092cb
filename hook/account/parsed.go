package account

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/regularfile"
	"github.com/oca-sh/oca/projectfile"
)

// The parsed record ($XDG_STATE_HOME/oca/accounts.parsed) is the accounts
// file as the TOML parser last decoded it, for the content whose SHA-256
// it names: what Load takes instead of parsing the file again when the
// file still has that content. The hook's binary, oca-export, links no
// TOML parser (projectfile's notoml.go) and decodes the accounts file only
// from here; oca writes the record each time it parses content that the
// record is not of. It is the decoder's output, not the checked accounts:
// every check of Load runs on it as on a parse, against the environment of
// the moment.
//
// Its format is lines: the version, the digest, then one per value, a key
// and the value quoted as Go quotes strings (strconv.Quote: one line, any
// byte), so reading it needs neither a parser nor reflection:
//
//	o "OPENCODE"           the opencode key
//	A                      the accounts table is there ([accounts], even empty)
//	a "NAME"               an account; the lines up to the next are its keys
//	port 10001             and data_home, state_home, config_dir, idle_timeout
//	start_timeout_i 120    or start_timeout_f 1.5, start_timeout_s "2m"
//	trusted_paths          the key is there (even as []); then, one each,
//	trusted_path "~/x"
//	env                    the table is there (even empty); then, one each,
//	env_var "K" "V"
//	systemd, external      (true: present)
//	attach true            or false (absent: not set)
//
// It holds what the accounts file holds, env values too: it is written
// 0600, and read only when it and its directory are the user's own and
// not writable by others, as the accounts file is.
const (
	parsedVersion = "oca-accounts-parsed-1"
	// maxParsed bounds a record: quoting at most quadruples a value
	// (\xNN for a byte), and a file is at most maxAccountsSize.
	maxParsed = 4*maxAccountsSize + 4096
)

// ParsedFile is the path of the parsed record of the accounts file.
func (d Dirs) ParsedFile() string { return filepath.Join(d.State, "accounts.parsed") }

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// decode returns the accounts file's content, data, as the decoder gives
// it: from the parsed record when it is of this content, else parsed, and
// recorded for next time (where the record can be written: a record that
// cannot be written costs a parse next time, nothing more).
func (r *Registry) decode(data []byte) (fileTOML, error) {
	digest := digestOf(data)
	if f, ok := readParsed(r.dirs.ParsedFile(), digest); ok {
		return f, nil
	}
	var f fileTOML
	if err := projectfile.DecodeTOML(r.Path, data, &f, []string{envKeys}); err != nil {
		return fileTOML{}, err
	}
	if rec, ok := encodeParsed(digest, f); ok {
		writeParsed(r.dirs.ParsedFile(), rec)
	}
	return f, nil
}

// readParsed reads the record at path, if it is of the content whose
// digest is given and is the user's own, in a directory of the user's own.
func readParsed(path, digest string) (fileTOML, bool) {
	dfi, err := os.Stat(filepath.Dir(path))
	if err != nil || private(filepath.Dir(path), dfi) != nil {
		return fileTOML{}, false
	}
	data, fi, err := regularfile.Read(path, maxParsed, regularfile.NoLinks)
	if err != nil || private(path, fi) != nil {
		return fileTOML{}, false
	}
	return decodeParsed(string(data), digest)
}

// writeParsed writes rec at path, where its directory is there and the
// user's own.
func writeParsed(path string, rec []byte) {
	dfi, err := os.Stat(filepath.Dir(path))
	if err != nil || private(filepath.Dir(path), dfi) != nil {
		return
	}
	_ = atomicfile.Write(path, rec, 0o600)
}

// encodeParsed renders f as a record of the content whose digest is given;
// ok is false for a value the record has no form for (a start_timeout that
// is not a number or a string, which Load refuses anyway).
func encodeParsed(digest string, f fileTOML) (rec []byte, ok bool) {
	var b strings.Builder
	put := func(key string, vals ...string) {
		b.WriteString(key)
		for _, v := range vals {
			b.WriteByte(' ')
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	q := strconv.Quote
	put(parsedVersion)
	put(digest)
	if f.Opencode != "" {
		put("o", q(f.Opencode))
	}
	if f.Accounts != nil {
		put("A")
	}
	for _, name := range slices.Sorted(maps.Keys(f.Accounts)) {
		a := f.Accounts[name]
		put("a", q(name))
		if a.Port != 0 {
			put("port", strconv.Itoa(a.Port))
		}
		for _, kv := range [][2]string{{"data_home", a.DataHome}, {"state_home", a.StateHome}, {"config_dir", a.ConfigDir}, {"idle_timeout", a.IdleTimeout}} {
			if kv[1] != "" {
				put(kv[0], q(kv[1]))
			}
		}
		switch v := a.StartTimeout.(type) {
		case nil:
		case int64:
			put("start_timeout_i", strconv.FormatInt(v, 10))
		case float64:
			put("start_timeout_f", strconv.FormatFloat(v, 'g', -1, 64))
		case string:
			put("start_timeout_s", q(v))
		default:
			return nil, false
		}
		if a.TrustedPaths != nil {
			put("trusted_paths")
		}
		for _, p := range a.TrustedPaths {
			put("trusted_path", q(p))
		}
		if a.Env != nil {
			put("env")
		}
		for _, k := range slices.Sorted(maps.Keys(a.Env)) {
			put("env_var", q(k), q(a.Env[k]))
		}
		if a.Systemd {
			put("systemd")
		}
		if a.External {
			put("external")
		}
		if a.Attach != nil {
			put("attach", strconv.FormatBool(*a.Attach))
		}
	}
	return []byte(b.String()), true
}

// decodeParsed reads a record: ok is false for one of another version, of
// other content, or that does not read as a record.
func decodeParsed(rec, digest string) (fileTOML, bool) {
	lines := strings.Split(rec, "\n")
	if len(lines) < 3 || lines[0] != parsedVersion || lines[1] != digest || lines[len(lines)-1] != "" {
		return fileTOML{}, false
	}
	var f fileTOML
	accounts := map[string]*accountTOML{}
	var cur *accountTOML
	for _, line := range lines[2 : len(lines)-1] {
		if !parsedLine(line, &f, accounts, &cur) {
			return fileTOML{}, false
		}
	}
	for name, a := range accounts {
		f.Accounts[name] = *a
	}
	return f, true
}

// parsedLine reads one line of a record into f: the account it is about
// is *cur, which a line "a NAME" makes anew in accounts.
func parsedLine(line string, f *fileTOML, accounts map[string]*accountTOML, cur **accountTOML) bool {
	key, val, _ := strings.Cut(line, " ")
	unquote := func(dst *string) bool {
		s, err := strconv.Unquote(val)
		*dst = s
		return err == nil
	}
	bare := val == "" && !strings.Contains(line, " ")
	switch key {
	case "o":
		return unquote(&f.Opencode)
	case "A":
		f.Accounts = map[string]accountTOML{}
		return bare
	case "a":
		var name string
		if !unquote(&name) || f.Accounts == nil || accounts[name] != nil {
			return false
		}
		*cur = &accountTOML{}
		accounts[name] = *cur
		return true
	}
	a := *cur
	if a == nil {
		return false
	}
	switch key {
	case "port":
		n, err := strconv.Atoi(val)
		a.Port = n
		return err == nil
	case "data_home":
		return unquote(&a.DataHome)
	case "state_home":
		return unquote(&a.StateHome)
	case "config_dir":
		return unquote(&a.ConfigDir)
	case "idle_timeout":
		return unquote(&a.IdleTimeout)
	case "start_timeout_i":
		n, err := strconv.ParseInt(val, 10, 64)
		a.StartTimeout = n
		return err == nil
	case "start_timeout_f":
		x, err := strconv.ParseFloat(val, 64)
		a.StartTimeout = x
		return err == nil
	case "start_timeout_s":
		var s string
		ok := unquote(&s)
		a.StartTimeout = s
		return ok
	case "trusted_paths":
		a.TrustedPaths = []string{}
		return bare
	case "trusted_path":
		var p string
		if a.TrustedPaths == nil || !unquote(&p) {
			return false
		}
		a.TrustedPaths = append(a.TrustedPaths, p)
		return true
	case "env":
		a.Env = map[string]string{}
		return bare
	case "env_var":
		k, err := strconv.QuotedPrefix(val)
		if err != nil || a.Env == nil || !strings.HasPrefix(val[len(k):], " ") {
			return false
		}
		kk, err1 := strconv.Unquote(k)
		vv, err2 := strconv.Unquote(val[len(k)+1:])
		a.Env[kk] = vv
		return err1 == nil && err2 == nil
	case "systemd":
		a.Systemd = true
		return bare
	case "external":
		a.External = true
		return bare
	case "attach":
		v, err := strconv.ParseBool(val)
		a.Attach = &v
		return err == nil
	}
	return false
}
