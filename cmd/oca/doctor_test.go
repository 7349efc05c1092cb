package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/doctor"
	"github.com/oca-sh/oca/hook/opencode"
)

// TestOpencodeVersionSlow: asking which OpenCode a binary is (doctor, and
// every command that needs to know) runs out of time as a
// doctor.SlowError ("took longer than N s"), not "does not run: signal:
// killed", and is not cached; its deadline is generous (13-18 s were
// measured on a loaded machine, against a deadline of 20 s: issue 17,
// item 8); and a launcher whose child keeps the output open does not hold
// oca.
func TestOpencodeVersionSlow(t *testing.T) {
	if opencode.ProbeTime < time.Minute {
		t.Errorf("opencode.ProbeTime = %s: a loaded machine took 18 s", opencode.ProbeTime)
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "versions.json")
	slow := filepath.Join(dir, "opencode")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nsleep 600 &\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := opencode.DetectWithin(slow, cache, nil, time.Second)
	var se *doctor.SlowError
	if !errors.As(err, &se) || !strings.HasSuffix(err.Error(), ": took longer than 1 s") {
		t.Fatalf("which OpenCode a slow opencode is: %v, want took longer than 1 s", err)
	}
	if _, err := os.Stat(cache); err == nil {
		t.Errorf("a slow answer was cached")
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := opencode.DetectWithin(broken, cache, nil, time.Minute); err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("which OpenCode a broken opencode is: %v", err)
	}
}
