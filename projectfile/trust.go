package projectfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/safepath"
)

// Verdict is whether a project file may apply.
type Verdict int

const (
	Untrusted Verdict = iota // neither allowed nor under a trusted path: ask the user
	Allowed                  // `oca allow` recorded this path with this content
	Trusted                  // under one of the account's trusted_paths
	Denied                   // `oca deny` blocked this path
)

func (v Verdict) String() string {
	return [...]string{"untrusted", "allowed", "trusted", "denied"}[v]
}

// Trust is the store of trust records, kept in oca's private state
// directory. A project file is judged as it was found: by the path where
// Find found it (not resolved: the path the user's shell walked), by where it
// really is (every link resolved), and by its content. So a link to an
// allowed file, or an allowed file reached through a linked directory, is
// allowed or denied on its own.
//
//	allow/<sha256(found NUL real NUL content)>  `oca allow`: this content, found there, really here
//	deny/<sha256(found)>                         `oca deny`: nothing found there applies
//	seen/<sha256(found)>                         what the last full check of that path read: the
//	                                             file's stat signature, real path, account and
//	                                             allow record, so that an unchanged file is judged
//	                                             without being read or hashed
//
// Any edit of a file revokes its allow record; no edit lifts a deny. Paths
// may hold any byte but NUL, so NUL keeps the parts from running into each
// other.
type Trust struct {
	Dir string // e.g. $XDG_STATE_HOME/oca/trust

	// Now is the clock that decides whether a file is old enough to be
	// judged by its signature alone (nil: time.Now). Tests set it.
	Now func() time.Time
}

// RealPath resolves symlinks in path and makes it absolute.
func RealPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	return real, nil
}

func digest(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var nul = []byte{0}

// AllowRecord is the file whose existence allows content, found at found
// and really at real.
func (t Trust) AllowRecord(found, real string, content []byte) string {
	return filepath.Join(t.Dir, "allow", digest([]byte(filepath.Clean(found)), nul, []byte(real), nul, content))
}

// DenyRecord is the file whose existence denies what is found at found.
// (oca before links were judged on their own named it by the real path,
// with the same digest: where a file is found by its real path, its old deny
// record still denies it.)
func (t Trust) DenyRecord(found string) string {
	return filepath.Join(t.Dir, "deny", digest([]byte(filepath.Clean(found))))
}

// legacyAllowRecord is the allow record oca kept before links were judged
// on their own: sha256(real + "\n" + content), for every path that led to
// the file.
func (t Trust) legacyAllowRecord(real string, content []byte) string {
	return filepath.Join(t.Dir, "allow", digest([]byte(real+"\n"), content))
}

func (t Trust) memoPath(found string) string {
	return filepath.Join(t.Dir, "seen", digest([]byte(filepath.Clean(found))))
}

// Check decides whether the file found at found, really at real, with this
// content applies. trustedPaths are absolute directories (the account's
// trusted_paths, "~" already expanded); they trust a file below them unless
// it was denied, or it or a directory up to the trusted one belongs to
// another user or may be written by others (see TrustedBy).
//
// An allow record of oca before links were judged on their own counts where
// the file is found by its real path, as it did then, and is made a record
// of this version.
func (t Trust) Check(found, real string, content []byte, trustedPaths []string) Verdict {
	return t.verdict(found, t.AllowRecord(found, real, content),
		func() bool { return t.migrate(found, real, content) },
		func() bool { return TrustedBy(found, real, trustedPaths) })
}

// verdict is the one order of the trust decision, whether the allow record
// was named from the content just read or from what the last full check of
// an unchanged file read: a deny, then an allow, then the trusted paths.
func (t Trust) verdict(found, allow string, legacy, trusted func() bool) Verdict {
	if exists(t.DenyRecord(found)) {
		return Denied
	}
	if exists(allow) || legacy != nil && legacy() {
		return Allowed
	}
	if trusted() {
		return Trusted
	}
	return Untrusted
}

// migrate honours an allow record of oca before links were judged on their
// own, where that meant what it means now (the file is found by its real
// path), and replaces it with one of this version.
func (t Trust) migrate(found, real string, content []byte) bool {
	old := t.legacyAllowRecord(real, content)
	if filepath.Clean(found) != real || !exists(old) {
		return false
	}
	if err := writeRecord(t.AllowRecord(found, real, content), []byte(found+"\n"+real+"\n")); err == nil {
		os.Remove(old)
	}
	return true
}

// Judgement is the trust decision on one project file, as found.
type Judgement struct {
	// File is the file as parsed; when Recalled, its Path, Account and
	// Autostart are what the last full check of the unchanged file read.
	File    *File
	Real    string  // where the file really is
	Verdict Verdict // Denied, Allowed, Trusted or Untrusted
	// Allow is the allow record for this path and content: the shell
	// watches it, so that `oca allow` or a revoked allow takes effect at
	// the next prompt.
	Allow string
	// Recalled is true when the file was not read: its stat signature and
	// real path were those of the last full check, whose verdict stands.
	Recalled bool
	// LinkAllowedBefore is set, for an untrusted file reached through a
	// link, when oca before links were judged on their own allowed the
	// file it leads to: the message then says why it asks again.
	LinkAllowedBefore bool
}

// Judge is the trust decision on the project file Find found at found (an
// absolute path, not resolved), and the only one: the hook's fast path is
// inside it. trustedPaths gives an account's trusted paths, or an error for
// an account the user does not have, which Judge returns as it is (with
// the parsed file in the Judgement).
//
// When the file's stat signature (device, inode, size, modification and
// change times) and real path are those of the last full check, recorded
// in the user's own trust store, it is judged without being read: the
// record names the account and the allow record that content had, and the
// deny record, the allow record and the trusted paths are looked at again,
// as Check looks at them. Nothing the shell's environment says is taken on
// trust. Otherwise the file is read (ReadStat) and checked, and an Allowed
// or Trusted verdict is recorded for next time; it is parsed unless it has
// the content that check parsed, as the record's allow record (a digest of
// both paths and the content) shows: then what it read stands. (A file
// changed too recently for its signature to stand is recorded without
// one, so it is read every time, but parsed once: oca-export, which has no
// parser, judges it without handing it to oca.)
func (t Trust) Judge(found string, trustedPaths func(account string) ([]string, error)) (*Judgement, error) {
	found = filepath.Clean(found)
	m, remembered := t.readMemo(found)
	if remembered {
		if j := t.recall(found, m, trustedPaths); j != nil {
			return j, nil
		}
	}
	start := t.now()
	real, err := RealPath(found)
	if err != nil {
		return nil, err
	}
	data, fi, err := ReadStat(found)
	if err != nil {
		return nil, err
	}
	if rfi, err := os.Stat(real); err != nil || !os.SameFile(fi, rfi) {
		return nil, fmt.Errorf("%s changed while oca read it", found)
	}
	allow := t.AllowRecord(found, real, data)
	var f *File
	if remembered && m.Real == real && m.Allow == filepath.Base(allow) {
		f = &File{Path: found, Account: m.Account, Autostart: m.Autostart}
	} else if f, err = Parse(found, data); err != nil {
		return nil, err
	}
	j := &Judgement{File: f, Real: real, Allow: allow}
	tps, err := trustedPaths(f.Account)
	if err != nil {
		return j, err
	}
	j.Verdict = t.Check(found, real, data, tps)
	switch j.Verdict {
	case Allowed, Trusted:
		t.remember(found, fi, start, memo{
			Sig: Signature(fi), Real: real, Account: f.Account, Autostart: f.Autostart,
			Allow: filepath.Base(allow),
		})
	case Untrusted:
		j.LinkAllowedBefore = found != real && exists(t.legacyAllowRecord(real, data))
	}
	return j, nil
}

func (t Trust) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// memo is what a seen/ record holds: its fields, in this order, each
// followed by NUL (which no path holds), after the version "oca-seen-1".
// It is read on the fast path, so it is not JSON: splitting it costs a
// fraction of decoding that.
type memo struct {
	Sig       string // empty: the file had changed too recently (remember)
	Real      string
	Account   string
	Autostart bool
	Allow     string // the allow record's name
}

const (
	memoVersion = "oca-seen-1"
	// maxMemo bounds a record: a real path is at most PATH_MAX (4096)
	// bytes, the rest a few hundred.
	maxMemo = 8 << 10
)

func (m memo) encode() []byte {
	var b bytes.Buffer
	for _, f := range []string{memoVersion, m.Sig, m.Real, m.Account, strconv.FormatBool(m.Autostart), m.Allow} {
		b.WriteString(f)
		b.WriteByte(0)
	}
	return b.Bytes()
}

func decodeMemo(data []byte) (memo, bool) {
	f := bytes.Split(data, nul)
	if len(f) != 7 || string(f[0]) != memoVersion || len(f[6]) != 0 {
		return memo{}, false
	}
	autostart, err := strconv.ParseBool(string(f[4]))
	m := memo{Sig: string(f[1]), Real: string(f[2]), Account: string(f[3]), Autostart: autostart, Allow: string(f[5])}
	if err != nil || !filepath.IsAbs(m.Real) || !ValidAccountName(m.Account) || !isDigest(m.Allow) {
		return memo{}, false
	}
	return m, true
}

// recall judges the file at found by m, the record of its last full check,
// or returns nil when that record does not stand for it (then the file is
// read). Only an Allowed or Trusted verdict is recalled: any other is
// worked out, and said, anew.
func (t Trust) recall(found string, m memo, trustedPaths func(string) ([]string, error)) *Judgement {
	fi, err := os.Stat(found)
	if err != nil || !fi.Mode().IsRegular() || m.Sig == "" || m.Sig != Signature(fi) {
		return nil
	}
	real, err := RealPath(found)
	if err != nil || real != m.Real {
		return nil
	}
	tps, err := trustedPaths(m.Account)
	if err != nil {
		return nil
	}
	allow := filepath.Join(t.Dir, "allow", m.Allow)
	v := t.verdict(found, allow, nil, func() bool { return TrustedBy(found, real, tps) })
	if v != Allowed && v != Trusted {
		return nil
	}
	return &Judgement{
		File:     &File{Path: found, Account: m.Account, Autostart: m.Autostart},
		Real:     real,
		Verdict:  v,
		Allow:    allow,
		Recalled: true,
	}
}

// readMemo reads the record of the last full check of found. It is on the
// fast path, so it reads with three system calls (open, read, close), where
// os.Open would add the poller's.
func (t Trust) readMemo(found string) (memo, bool) {
	fd, err := syscall.Open(t.memoPath(found), syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return memo{}, false
	}
	buf := make([]byte, maxMemo+1)
	n, err := syscall.Read(fd, buf)
	syscall.Close(fd)
	if err != nil || n > maxMemo {
		return memo{}, false
	}
	return decodeMemo(buf[:n])
}

// remember records m for found, with the file's signature only if the file
// read (fi, from fstat before the first byte was read) had not changed
// within the racy window of its filesystem (RacyWindowOf) before start: a
// later change then cannot leave its signature as it was. Without it, the
// record spares the next check the parse of this content, not the read.
func (t Trust) remember(found string, fi os.FileInfo, start time.Time, m memo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		m.Sig = ""
	}
	older := func(window time.Duration) bool {
		edge := start.Add(-window)
		return time.Unix(st.Ctim.Unix()).Before(edge) && fi.ModTime().Before(edge)
	}
	if ok && !older(RacyWindow) && !older(RacyWindowOf(found)) {
		m.Sig = ""
	}
	data := m.encode()
	if old, ok := t.readMemo(found); ok && bytes.Equal(old.encode(), data) {
		return
	}
	// A record that cannot be written costs a read next time, nothing more.
	_ = writeRecord(t.memoPath(found), data)
}

func isDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Signature identifies one version of a file by device, inode, size, and
// modification and change times to the nanosecond. No one but root can set
// a change time: a file written or replaced since has another signature.
func Signature(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), st.Mtim.Nano(), st.Ctim.Nano())
}

// TrustedBy reports whether the project file found at found, really at
// real, is trusted for where it is: below one of trustedPaths both where it
// was found (its directories resolved) and where it really is, with the
// file, the link it was found as, and every directory from them up to the
// trusted one owned by the user running oca (or root) and not writable by
// group or others. It does not look at allow or deny records.
func TrustedBy(found, real string, trustedPaths []string) bool {
	if len(trustedPaths) == 0 {
		return false
	}
	dir, err := RealPath(filepath.Dir(found))
	if err != nil {
		return false
	}
	at := filepath.Join(dir, filepath.Base(found)) // the name found, not followed
	for _, tp := range trustedPaths {
		rtp, err := RealPath(tp)
		if err != nil || !safepath.Within(at, rtp) || !safepath.Within(real, rtp) {
			continue
		}
		if ownChain(real, rtp) && (at == real || ownChain(at, rtp)) {
			return true
		}
	}
	return false
}

// Allow records content, found at found and really at real, as allowed,
// lifting any deny of found.
func (t Trust) Allow(found, real string, content []byte) error {
	if err := removeIfExists(t.DenyRecord(found)); err != nil {
		return err
	}
	return writeRecord(t.AllowRecord(found, real, content), []byte(filepath.Clean(found)+"\n"+real+"\n"))
}

// Deny blocks whatever is found at found, and drops the allow record of the
// content given (nil: none).
func (t Trust) Deny(found, real string, content []byte) error {
	if content != nil {
		if err := removeIfExists(t.AllowRecord(found, real, content)); err != nil {
			return err
		}
	}
	return writeRecord(t.DenyRecord(found), []byte(filepath.Clean(found)+"\n"))
}

func writeRecord(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if err := atomicfile.Write(path, content, 0o600); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// ownChain reports whether path and every directory from its own up to
// root (path must be within root) belong to the user running oca or to
// root, and may not be written by group or others, as /tmp may: a file
// there is never trusted merely for where it is (safepath.Check, without
// its exceptions). A symbolic link is judged by its owner alone (its mode
// means nothing); a link further up is refused (path's directories were
// resolved: one appearing since is a change under way).
func ownChain(path, root string) bool {
	return safepath.Check(path, safepath.Rule{Top: root}) == nil
}

// Seen lists the project files whose last full check (an allowed or
// trusted file, unchanged for RacyWindow) found them naming account, by
// their real paths, each once: the files a rename of the account leaves
// naming a name the user no longer has.
func (t Trust) Seen(account string) []string {
	ents, err := os.ReadDir(filepath.Join(t.Dir, "seen"))
	if err != nil {
		return nil
	}
	var out []string
	have := map[string]bool{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(t.Dir, "seen", e.Name()))
		if err != nil || len(data) > maxMemo {
			continue
		}
		m, ok := decodeMemo(data)
		if !ok || m.Account != account || have[m.Real] {
			continue
		}
		have[m.Real] = true
		out = append(out, m.Real)
	}
	return out
}
