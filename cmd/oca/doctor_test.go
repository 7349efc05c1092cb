package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/doctor"
)

// TestOpencodeVersionSlow: doctor's `opencode --version` that runs out of
// time is a doctor.SlowError ("took longer than N s"), not "does not run:
// signal: killed"; its deadline is generous (13-18 s were measured on a
// loaded machine, against a deadline of 20 s: issue 17, item 8); and a
// launcher whose child keeps the output open does not hold doctor.
func TestOpencodeVersionSlow(t *testing.T) {
	if versionWait < time.Minute {
		t.Errorf("versionWait = %s: a loaded machine took 18 s", versionWait)
	}
	dir := t.TempDir()
	slow := filepath.Join(dir, "opencode")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nsleep 600 &\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := opencodeVersion(slow, time.Second)
	var se *doctor.SlowError
	if !errors.As(err, &se) || err.Error() != "took longer than 1 s" {
		t.Fatalf("opencodeVersion of a slow opencode: %v, want took longer than 1 s", err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := opencodeVersion(broken, time.Minute); err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("opencodeVersion of a broken opencode: %v", err)
	}
}
