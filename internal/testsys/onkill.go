package testsys

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// onKillDir is where in the world's directory OnKill leaves its commands.
const onKillDir = "onkill"

// OnKill leaves the reaper a command to run should the test process end
// before the test does (a SIGKILL, a timeout's panic): for what a test
// undoes in its own cleanup and is no process of its world, a container
// the Docker engine runs, a user. The command is withdrawn once the test
// and its cleanups have run, so call OnKill before t.Cleanup registers
// the undoing itself. Outside Main's world it does nothing.
func OnKill(t testing.TB, args ...string) {
	t.Helper()
	dir := os.Getenv(worldDirEnv)
	if dir == "" {
		return
	}
	data, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	// Named by the time, so that the reaper runs the last one first.
	file := filepath.Join(dir, onKillDir, fmt.Sprintf("%020d.%d", time.Now().UnixNano(), os.Getpid()))
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatalf("leaving the reaper %q: %v", args, err)
	}
	t.Cleanup(func() { os.Remove(file) })
}

// runOnKill runs the command OnKill left in file (for 2 minutes at most),
// and removes the file.
func runOnKill(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var args []string
	if err := json.Unmarshal(data, &args); err != nil || len(args) == 0 {
		return fmt.Errorf("%s: not a command: %q", file, data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	os.Remove(file)
	fmt.Fprintf(os.Stderr, "testsys: reaper: ran %s\n", strings.Join(quoteAll(args), " "))
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(quoteAll(args), " "), err, out)
	}
	return nil
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			out[i] = strconv.Quote(a)
		}
	}
	return out
}
