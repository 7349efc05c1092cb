package opencode

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBeforeServing: a V1 database is copied aside (with its -wal) before
// OpenCode 2 first serves it, once; OpenCode 1.x is refused on it after,
// with a command that puts the backup back, and accepted once it is back.
func TestBeforeServing(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "opencode")
	os.MkdirAll(dir, 0o700)
	db := filepath.Join(dir, "opencode.db")
	os.WriteFile(db, []byte("v1 database"), 0o644)
	os.WriteFile(db+"-wal", []byte("v1 wal"), 0o644)
	v1 := Version{Major: 1, Text: "1.18.33"}
	v2 := Version{Major: 2, Preview: true, Text: "lildax vlocal"}

	if b, err := BeforeServing(home, v1); err != nil || b != "" {
		t.Fatalf("V1 on its own database: %q, %v", b, err)
	}
	backup, err := BeforeServing(home, v2)
	if err != nil || !strings.HasPrefix(backup, db+".v1-") {
		t.Fatalf("V2's first serve: backup %q, %v", backup, err)
	}
	for suffix, want := range map[string]string{"": "v1 database", "-wal": "v1 wal"} {
		if b, _ := os.ReadFile(backup + suffix); string(b) != want {
			t.Errorf("backup%s holds %q, want %q", suffix, b, want)
		}
	}
	if _, err := os.Stat(backup + "-shm"); !os.IsNotExist(err) {
		t.Errorf("a -shm backup of no -shm: %v", err)
	}
	// V2 migrates it.
	os.WriteFile(db, []byte("v2 database"), 0o644)
	if b, err := BeforeServing(home, v2); err != nil || b != "" {
		t.Errorf("V2's second serve: %q, %v (no second backup)", b, err)
	}
	if err := CanRun(home, v1); err == nil {
		t.Errorf("CanRun: V1 may open a database V2 served")
	}
	if err := CanRun(home, v2); err != nil {
		t.Errorf("CanRun: V2 may not open its own database: %v", err)
	}
	_, err = BeforeServing(home, v1)
	var me *MigratedError
	if !errors.As(err, &me) || me.Backup != backup || !strings.Contains(err.Error(), "OpenCode 1.x would fail on it") {
		t.Fatalf("V1 after V2: %v, want a MigratedError naming %s", err, backup)
	}
	// The command it gives puts the backup back, and V1 is let in.
	restore := err.Error()[strings.LastIndex(err.Error(), ": ")+2:]
	if out, err := exec.Command("sh", "-c", restore).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", restore, err, out)
	}
	if b, _ := os.ReadFile(db); string(b) != "v1 database" {
		t.Fatalf("after %q the database holds %q", restore, b)
	}
	// Only the database put back: the write-ahead log is still V2's.
	os.WriteFile(db+"-wal", []byte("v2 wal"), 0o644)
	if _, err := BeforeServing(home, v1); err == nil {
		t.Errorf("V1 let in on the V1 database with V2's write-ahead log")
	}
	os.WriteFile(db+"-wal", []byte("v1 wal"), 0o644)
	if _, err := BeforeServing(home, v1); err != nil {
		t.Errorf("V1 on its restored database: %v", err)
	}
	// And the record is V1's again: V2 backs it up anew.
	if b, err := BeforeServing(home, v2); err != nil || b == "" || b == backup {
		t.Errorf("V2 after V1 again: backup %q, %v; want a new one", b, err)
	}
	if _, err := BeforeServing(home, Version{Text: "3.0.0"}); err == nil {
		t.Errorf("an unknown OpenCode was let serve")
	}
}
