package hook

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/projectfile"
)

// BenchmarkExportInProcess is the engine's own work for enter, stay and
// leave, without the cost of starting a process (which cmd/oca's Benchmark
// Enter, Stay and Leave include): the difference between the two is what
// process startup costs.
func BenchmarkExportInProcess(b *testing.B) {
	home, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	outside := Env{
		"PATH":            "/usr/bin:/bin",
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_STATE_HOME":  filepath.Join(home, ".local", "state"),
		"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
	}
	dirs, err := account.DirsFrom(func(k string) string { return outside[k] })
	if err != nil {
		b.Fatal(err)
	}
	// A data home with a few entries, as a user's has, for the links.
	for _, d := range []string{"direnv", "nvim", "zoxide", "mise"} {
		if err := os.MkdirAll(filepath.Join(dirs.Data, d), 0o700); err != nil {
			b.Fatal(err)
		}
	}
	if err := account.Update(dirs, func(r *account.Registry) error {
		_, err := r.Add("work", account.AddOptions{Port: 10001})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	proj := filepath.Join(home, "project")
	if err := os.Mkdir(proj, 0o755); err != nil {
		b.Fatal(err)
	}
	content := []byte("account = \"work\"\n")
	path := filepath.Join(proj, projectfile.Name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := (projectfile.Trust{Dir: dirs.TrustDir()}).Allow(path, path, content); err != nil {
		b.Fatal(err)
	}
	// A project file is seldom minutes old, let alone seconds: one changed
	// within its filesystem's racy window is read at every run, an older
	// one is judged by its signature.
	time.Sleep(projectfile.RacyWindowOf(path) + 100*time.Millisecond)

	export := func(b *testing.B, env Env, pwd string) *Output {
		out, err := Export(Input{Env: env, PWD: pwd})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	first := export(b, outside, proj) // makes the password and the stamps
	if first.Account != "work" || len(first.Messages) > 0 {
		b.Fatalf("entering: account %q, messages %q", first.Account, first.Messages)
	}
	inside := Env{}
	for k, v := range outside {
		inside[k] = v
	}
	for _, c := range first.Changes {
		inside[c.Name] = c.Value
	}

	for _, tc := range []struct {
		name    string
		env     Env
		pwd     string
		changes int // how many changes the run must make
	}{
		{"enter", outside, proj, len(first.Changes)},
		{"stay", inside, proj, 0},
		{"leave", inside, home, len(first.Changes)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				out := export(b, tc.env, tc.pwd)
				if len(out.Changes) != tc.changes || len(out.Messages) > 0 {
					b.Fatalf("%d changes (want %d), messages %q", len(out.Changes), tc.changes, out.Messages)
				}
			}
		})
	}
}
