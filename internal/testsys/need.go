package testsys

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What a test may need of the machine beyond what Go brings. A test that
// needs something the machine lacks skips, naming it; under CI=true it
// fails instead, since CI must run every test. Three of them are slow,
// and `go test -short` skips the tests that need them (whether the
// machine has them or not): the real OpenCode, a Docker engine, a systemd
// user manager. Nothing else skips under -short: NeedOpencode, NeedDocker
// and NeedSystemd are the suite's only calls of testing.Short.

// NeedOpencode is the absolute path of the real OpenCode (opencode on
// PATH), for a test that runs it. Under -short the test skips.
func NeedOpencode(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the real OpenCode: skipped with -short")
	}
	p, err := opencodePath()
	if err != nil {
		SkipOrFail(t, err.Error())
	}
	return p
}

// NeedOpencode2Preview is the absolute path of the OpenCode 2.0 preview
// command line (npm's @opencode-ai/cli-linux-x64, binary lildax, under
// `npm root -g`, not on PATH), for a test that runs it. Under -short the
// test skips.
func NeedOpencode2Preview(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the OpenCode 2.0 preview: skipped with -short")
	}
	root, err := exec.Command("npm", "root", "-g").Output()
	if err != nil {
		SkipOrFail(t, "the OpenCode 2.0 preview is not installed (npm root -g: "+err.Error()+")")
	}
	p := filepath.Join(strings.TrimSpace(string(root)), "@opencode-ai", "cli-linux-x64", "bin", "lildax")
	if _, err := os.Stat(p); err != nil {
		SkipOrFail(t, "the OpenCode 2.0 preview is not installed ("+p+"); npm install -g @opencode-ai/cli-linux-x64@1.18.18")
	}
	return p
}

// NeedDocker is for a test that runs containers: it needs docker,
// docker-compose, busybox (to make an image) and a Docker engine that
// answers. Under -short the test skips.
func NeedDocker(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker engine: skipped with -short")
	}
	for _, tool := range []string{"docker", "docker-compose", "busybox"} {
		NeedTool(t, tool)
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		SkipOrFail(t, fmt.Sprintf("no Docker engine answers (docker info: %v: %s)", err, strings.TrimSpace(string(out))))
	}
}

// NeedSystemd is for a test that runs a systemd user manager
// (StartUserManager calls it): it needs root, systemd, systemctl and
// unshare. Under -short the test skips.
func NeedSystemd(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a systemd user manager: skipped with -short")
	}
	RequireRoot(t)
	if _, err := os.Stat(systemdPath); err != nil {
		SkipOrFail(t, systemdPath+" is not installed")
	}
	NeedTool(t, "unshare")
	NeedTool(t, "systemctl")
}

// systemdPath is the program StartUserManager runs as the user manager.
const systemdPath = "/lib/systemd/systemd"

// HaveOpencode is NeedOpencode for a condition outside a test (a
// testscript's [opencode]): false under -short, false where the machine
// has no OpenCode, and an error for that under CI=true.
func HaveOpencode() (bool, error) {
	if testing.Short() {
		return false, nil
	}
	if _, err := opencodePath(); err != nil {
		if os.Getenv("CI") == "true" {
			return false, fmt.Errorf("%v, and CI must run every test", err)
		}
		return false, nil
	}
	return true, nil
}

func opencodePath() (string, error) {
	p, err := exec.LookPath("opencode")
	if err != nil {
		return "", errors.New("opencode is not installed")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("opencode: %w", err)
	}
	return abs, nil
}

// NeedTool is the path of the named program: without it on PATH, the test
// skips, or fails under CI=true. -short skips nothing here.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, name+" is not installed")
	}
	return p
}

// HaveTool is NeedTool for a condition outside a test (a testscript's
// [systemd], which runs systemd-analyze): false where the program is
// missing, and an error for that under CI=true.
func HaveTool(name string) (bool, error) {
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			return false, fmt.Errorf("%s is not installed, and CI must run every test", name)
		}
		return false, nil
	}
	return true, nil
}

// RequireRoot skips the test when not run as root, or fails it under
// CI=true.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root (mount, useradd, cgroups)")
	}
}

// SkipOrFail skips the test, saying why, or fails it under CI=true (where
// every test must run).
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI must run every test", why)
	}
	t.Skip(why)
}
