package opencode

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oca-sh/oca/internal/atomicfile"
)

// OpenCode 1.x and 2 keep their sessions in the same database,
// $XDG_DATA_HOME/opencode/opencode.db, and OpenCode 2 migrates it in place,
// after which OpenCode 1.x fails to start or write (upstream #42260,
// #49614). So before OpenCode 2 first serves a data home whose database
// OpenCode 1.x wrote, oca copies it aside (opencode.db.v1-DATE, with its
// -wal and -shm), and it records which major version last served the data
// home, in the file oca-served-by beside the database. OpenCode 1.x is
// never started on a database OpenCode 2 has served, unless the database
// is the backup again (restored by hand).

const (
	dbName     = "opencode.db"
	markerName = "oca-served-by"
)

// served is the record of which OpenCode last served a data home.
type served struct {
	Major     int       `json:"major"`
	Version   string    `json:"version"`
	At        time.Time `json:"at"`
	Backup    string    `json:"backup,omitempty"` // the V1 database copied aside before V2 first served it
	BackupSum string    `json:"backup_sha256,omitempty"`
}

func dbDir(dataHome string) string { return filepath.Join(dataHome, "opencode") }

func readServed(dataHome string) (served, bool) {
	b, err := os.ReadFile(filepath.Join(dbDir(dataHome), markerName))
	var s served
	if err != nil || json.Unmarshal(b, &s) != nil {
		return served{}, false
	}
	return s, true
}

func writeServed(dataHome string, s served) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dbDir(dataHome), markerName), append(b, '\n'), 0o600)
}

// MigratedError says that OpenCode 2 has served a data home's database, so
// OpenCode 1.x must not open it.
type MigratedError struct {
	DataHome string
	By       string // the OpenCode 2 that served it
	At       time.Time
	Backup   string // the V1 database copied aside, "" when there was none
}

func (e *MigratedError) Error() string {
	msg := fmt.Sprintf("%s was served by %s on %s, which migrates the database in place: OpenCode 1.x would fail on it",
		filepath.Join(dbDir(e.DataHome), dbName), e.By, e.At.Format("2006-01-02"))
	if e.Backup != "" {
		msg += "; use OpenCode 2, or put the OpenCode 1.x database back: " + restoreCommand(e.Backup, filepath.Join(dbDir(e.DataHome), dbName))
	} else {
		msg += "; use OpenCode 2"
	}
	return msg
}

// Restore is the shell command that puts the OpenCode 1.x database back
// in place: "" when there was none to back up.
func (e *MigratedError) Restore() string {
	if e.Backup == "" {
		return ""
	}
	return restoreCommand(e.Backup, filepath.Join(dbDir(e.DataHome), dbName))
}

// CanRun tells, without changing anything, whether OpenCode of version v
// may open a data home's database: an unknown OpenCode may not, nor may
// OpenCode 1.x open one that OpenCode 2 served (a *MigratedError), unless
// it is the V1 backup again. For a client that opens the database itself
// (OpenCode 1.x on its own, a command that is not the server's).
func CanRun(dataHome string, v Version) error {
	if !v.Known() {
		return fmt.Errorf("%s: %s", v, Supported)
	}
	rec, known := readServed(dataHome)
	if v.V2() || !known || rec.Major != 2 {
		return nil
	}
	if rec.Backup != "" && rec.BackupSum != "" && contentSum(filepath.Join(dbDir(dataHome), dbName)) == rec.BackupSum {
		return nil
	}
	return &MigratedError{DataHome: dataHome, By: rec.Version, At: rec.At, Backup: rec.Backup}
}

// BeforeServing readies a data home's database for version v and records
// that v serves it. For OpenCode 2 on a database that OpenCode 1.x (or no
// record) last served, it first copies the database aside and returns the
// backup's path, to be said once. For OpenCode 1.x on a database OpenCode
// 2 served, it returns a *MigratedError, unless the database is the backup
// again.
func BeforeServing(dataHome string, v Version) (backup string, err error) {
	rec, known := readServed(dataHome)
	db := filepath.Join(dbDir(dataHome), dbName)
	_, dbErr := os.Stat(db)
	switch {
	case !v.Known():
		return "", fmt.Errorf("%s: %s", v, Supported)
	case v.V2() && (!known || rec.Major != 2):
		if dbErr == nil {
			if backup, rec.BackupSum, err = copyAside(db); err != nil {
				return "", err
			}
			rec.Backup = backup
		}
	case !v.V2() && known && rec.Major == 2:
		if rec.Backup == "" || rec.BackupSum == "" || contentSum(db) != rec.BackupSum {
			return "", &MigratedError{DataHome: dataHome, By: rec.Version, At: rec.At, Backup: rec.Backup}
		}
		rec.Backup, rec.BackupSum = "", ""
	}
	if dbErr != nil && !errors.Is(dbErr, fs.ErrNotExist) {
		return "", fmt.Errorf("the database of %s: %w", dataHome, dbErr)
	}
	if err := os.MkdirAll(dbDir(dataHome), 0o700); err != nil {
		return "", err
	}
	rec.Major, rec.Version, rec.At = v.Major, v.String(), time.Now().UTC()
	return backup, writeServed(dataHome, rec)
}

// copyAside copies db, and its -wal and -shm where they exist, to
// db.v1-DATE (a name not taken yet), and returns the copy's path and the
// database's SHA-256.
func copyAside(db string) (string, string, error) {
	base := db + ".v1-" + time.Now().Format("20060102")
	name := base
	for i := 2; exists(name); i++ {
		name = fmt.Sprintf("%s.%d", base, i)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := copyFile(db+suffix, name+suffix)
		if errors.Is(err, fs.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("back up %s before OpenCode 2 migrates it: %w", db+suffix, err)
		}
	}
	return name, contentSum(name), nil
}

// contentSum is the SHA-256 of a database and its write-ahead log (what
// SQLite reads of it; the -shm is an index it rebuilds), "" when the
// database cannot be read.
func contentSum(db string) string {
	h := sha256.New()
	for _, suffix := range []string{"", "-wal"} {
		f, err := os.Open(db + suffix)
		if errors.Is(err, fs.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "%s\x00", suffix)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return ""
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// copyFile copies src to dst (new, 0600, synced).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

// restoreCommand is the shell command that puts the backup of a database
// (and its -wal and -shm, where the backup has them; else none) back in
// its place.
func restoreCommand(backup, db string) string {
	cmd := "cp " + shellQuote(backup) + " " + shellQuote(db)
	for _, suffix := range []string{"-wal", "-shm"} {
		if exists(backup + suffix) {
			cmd += " && cp " + shellQuote(backup+suffix) + " " + shellQuote(db+suffix)
		} else {
			cmd += " && rm -f " + shellQuote(db+suffix)
		}
	}
	return cmd
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
