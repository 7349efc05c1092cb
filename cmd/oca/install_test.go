package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestInstallScript runs install.sh as a newcomer would: it builds and
// installs oca, says that its directory is not on PATH, and, run again with
// --rc, adds the hook line and the PATH line once each (for each shell), so
// that a new interactive shell finds oca; --shims adds oca's shim directory
// to PATH in ~/.profile, once. Run again on the same source, it links
// nothing.
func TestInstallScript(t *testing.T) {
	t.Parallel()
	script, err := filepath.Abs("../../install.sh")
	if err != nil {
		t.Fatal(err)
	}
	// One build cache for all the runs (install.sh's, under
	// XDG_CACHE_HOME), filled by the newcomer's first install: each link of
	// oca costs seconds of CPU, and the shells' runs find it up to date.
	goenv := goEnvs(t)
	cache := t.TempDir()
	install := func(t *testing.T, home, shell string, args ...string) string {
		t.Helper()
		cmd := exec.Command("sh", append([]string{script, "--prefix", filepath.Join(home, "opt")}, args...)...)
		cmd.Env = append(installEnv(home, shell, goenv), "XDG_CACHE_HOME="+cache)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("install.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	// A newcomer's first run, without --rc.
	home := t.TempDir()
	prefix := filepath.Join(home, "opt")
	out := install(t, home, "bash")
	if !strings.Contains(out, "installed "+prefix+"/bin/oca") || !strings.Contains(out, "add this line to") {
		t.Errorf("without --rc: %s", out)
	}
	if !strings.Contains(out, "building oca") || !strings.Contains(out, prefix+"/bin is not on your PATH") {
		t.Errorf("without --rc, no word on the build or on PATH: %s", out)
	}
	if strings.Contains(out, "minute") {
		t.Errorf("with every Go module here, it promises a download: %s", out)
	}
	if _, err := os.Stat(filepath.Join(home, ".bashrc")); err == nil {
		t.Errorf("without --rc, .bashrc was written")
	}
	v, err := exec.Command(filepath.Join(prefix, "bin/oca"), "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "oca ") {
		t.Errorf("installed oca version: %q, %v", v, err)
	}
	// Built with Go's classic garbage collector where this Go offers it,
	// as shelltest builds oca for the other tests.
	experiment := ""
	for _, kv := range shelltest.BuildEnv(t) {
		if v, ok := strings.CutPrefix(kv, "GOEXPERIMENT="); ok {
			experiment = v
		}
	}
	if !strings.Contains(experiment, "nogreenteagc") && os.Getenv("CI") == "true" {
		t.Errorf("this Go (%s) has no GOEXPERIMENT=nogreenteagc: the tests' builds and figures assume it", experiment)
	}
	for _, bin := range []string{"oca", "oca-export"} {
		info, err := exec.Command("go", "version", "-m", filepath.Join(cache, "oca/build", bin)).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", bin, err)
		}
		if got := strings.Contains(string(info), "\tGOEXPERIMENT="+experiment+"\n"); experiment != "" && !got {
			t.Errorf("install.sh built %s without GOEXPERIMENT=%s:\n%s", bin, experiment, info)
		}
		// oca-export with the tags that keep TOML out of it, and oca
		// without: oca parses.
		if tagged := strings.Contains(string(info), "\t-tags="+shelltest.ExportTags+"\n"); tagged != (bin == "oca-export") {
			t.Errorf("install.sh built %s with -tags=%s: %v, want %v:\n%s", bin, shelltest.ExportTags, tagged, bin == "oca-export", info)
		}
	}
	built := filepath.Join(cache, "oca/build/oca")
	first := inode(t, built)

	for _, shell := range []struct{ name, rc, line string }{
		{"bash", ".bashrc", `eval "$('PREFIX/bin/oca' hook bash)"`},
		{"zsh", ".zshrc", `eval "$('PREFIX/bin/oca' hook zsh)"`},
		{"fish", ".config/fish/config.fish", `'PREFIX/bin/oca' hook fish | source`},
	} {
		t.Run(shell.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			prefix := filepath.Join(home, "opt")
			// bash's runs add the shims too (--shims, checked below).
			args := []string{"--rc"}
			if shell.name == "bash" {
				args = append(args, "--shims")
			}
			install(t, home, shell.name, args...)
			out := install(t, home, shell.name, args...)
			if !strings.Contains(out, "already has the oca hook") {
				t.Errorf("second --rc: %s", out)
			}
			if shell.name == "bash" && !strings.Contains(out, "already has oca's shims") {
				t.Errorf("second --shims: %s", out)
			}
			// Run again on the same source, it does not link oca again:
			// the binary in its build cache is the same file.
			if inode(t, built) != first {
				t.Errorf("run again on the same source, install.sh built %s again", built)
			}
			rc, err := os.ReadFile(filepath.Join(home, shell.rc))
			if err != nil {
				t.Fatal(err)
			}
			line := strings.ReplaceAll(shell.line, "PREFIX", prefix)
			if n := strings.Count(string(rc), line); n != 1 {
				t.Errorf("%s has the hook line %d times, want 1:\n%s", shell.rc, n, rc)
			}
			if n := strings.Count(string(rc), "put "+prefix+"/bin on PATH"); n != 1 {
				t.Errorf("%s has the PATH line %d times, want 1:\n%s", shell.rc, n, rc)
			}
			// A new interactive shell of the user's finds oca by name.
			env := append(installEnv(home, shell.name, goenv), "XDG_CACHE_HOME="+cache)
			sh := exec.Command(shelltest.Require(t, shell.name), "-i", "-c", "command -v oca")
			sh.Env = env
			if got, err := sh.Output(); err != nil || strings.TrimSpace(string(got)) != prefix+"/bin/oca" {
				t.Errorf("a new %s finds oca at %q (%v), want %s/bin/oca", shell.name, got, err, prefix)
			}
			// The hook runs oca-export, installed beside oca.
			hook, err := exec.Command(filepath.Join(prefix, "bin/oca"), "hook", shell.name).Output()
			if err != nil || !strings.Contains(string(hook), prefix+"/bin/oca-export") {
				t.Errorf("the installed hook does not run %s/bin/oca-export (%v):\n%s", prefix, err, hook)
			}
			if shell.name != "bash" {
				return
			}
			// --shims: once in ~/.profile, and a login shell's opencode is
			// oca's shim.
			profile, err := os.ReadFile(filepath.Join(home, ".profile"))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(profile), "' shims); then"); n != 1 {
				t.Errorf(".profile has the shims line %d times, want 1:\n%s", n, profile)
			}
			login := exec.Command("sh", "-c", `. "$HOME/.profile"; command -v opencode`)
			login.Env = env
			want := filepath.Join(home, ".local/state/oca/shim/opencode")
			if got, err := login.Output(); err != nil || strings.TrimSpace(string(got)) != want {
				t.Errorf("after ~/.profile, opencode is %q (%v), want %s", got, err, want)
			}
		})
	}
}

// TestInstallScriptSaysWhenItDownloads: install.sh says that the build
// downloads Go modules (and takes a minute or two) when it will, and only
// then (issue 17: it said so at every rebuild). Here no module is in the
// cache, and none can be downloaded.
func TestInstallScriptSaysWhenItDownloads(t *testing.T) {
	script, err := filepath.Abs("../../install.sh")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command("sh", script, "--prefix", filepath.Join(home, "opt"))
	cmd.Env = append(installEnv(home, "bash", goEnvs(t)), "GOMODCACHE="+filepath.Join(home, "empty"), "GOPROXY=off", "GOFLAGS=-modcacherw")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "first downloading its Go modules: a minute or two") {
		t.Errorf("with no Go module here, no word of the download:\n%s", out)
	}
}

// installEnv is this process's environment with a new home, keeping Go's
// own settings (goenv, from goEnvs), which live under the real home.
func installEnv(home, shell string, goenv []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "HOME", "SHELL", "ZDOTDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PREFIX":
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "HOME="+home, "SHELL=/bin/"+shell), goenv...)
}

// goEnvs are Go's settings that live under the real home, as NAME=value.
func goEnvs(t *testing.T) []string {
	t.Helper()
	var env []string
	for _, name := range []string{"GOENV", "GOCACHE", "GOMODCACHE", "GOPATH"} {
		env = append(env, name+"="+goEnv(t, name))
	}
	return env
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// inode is the inode number of path: a file written anew (built again and
// moved into place) has another.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
