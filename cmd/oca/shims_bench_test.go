package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// BenchmarkShimOutsideProjects: what oca's `opencode` (from `oca shims`,
// first on a login profile's PATH) adds outside any project, where it runs
// the real OpenCode unchanged, against that OpenCode started directly: both
// `opencode --version`, alternated in one loop, in a home with an account
// and a project elsewhere. Sub-benchmarks: the fake OpenCode (a static Go
// binary: the difference stands out) and the real one (what a user pays).
// Reports shim-ns/op, real-ns/op, extra-ns/op and x-real, and
// oca-version-ns/op, one start of oca doing nothing, alternated with them:
// the floor of what any shim of oca's adds.
//
//	go test -run '^$' -bench ShimOutsideProjects -benchtime 200x ./cmd/oca/
func BenchmarkShimOutsideProjects(b *testing.B) {
	oca := benchOca(b)
	home, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "OCA_AUTOSTART=0"}
	ocaCmd := func(dir string, args ...string) string {
		b.Helper()
		cmd := exec.Command(oca, args...)
		cmd.Dir, cmd.Env = dir, append(env, "PWD="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("oca %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	proj := filepath.Join(home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		b.Fatal(err)
	}
	ocaCmd(home, "account", "add", "work")
	ocaCmd(proj, "init", "work")
	shim := filepath.Join(ocaCmd(home, "shims"), "opencode")

	fakeDir := filepath.Join(home, "fake")
	if err := os.Mkdir(fakeDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(shelltest.FakeOpencode(b), filepath.Join(fakeDir, "opencode")); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		real func(b *testing.B) string
	}{
		{"fake", func(*testing.B) string { return filepath.Join(fakeDir, "opencode") }},
		{"real", func(b *testing.B) string { return testsys.NeedOpencode(b) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			real := c.real(b)
			path := "PATH=" + filepath.Dir(shim) + ":" + filepath.Dir(real) + ":/usr/bin:/bin"
			run := func(bin string) (string, time.Duration) {
				var out bytes.Buffer
				arg := "--version"
				if bin == oca {
					arg = "version" // the floor: one start of oca, doing nothing
				}
				cmd := exec.Command(bin, arg)
				cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = home, []string{"HOME=" + home, path, "PWD=" + home}, &out, &out
				t0 := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("%s --version: %v\n%s", bin, err, out.Bytes())
				}
				return out.String(), time.Since(t0)
			}
			// Untimed first: the shim gives exactly what the real one does.
			if got, _ := run(shim); got != func() string { s, _ := run(real); return s }() {
				b.Fatalf("outside projects the shim printed %q, unlike %s", got, real)
			}
			var tShim, tReal, tOca time.Duration
			for i := 0; b.Loop(); i++ {
				order := []string{shim, real, oca}
				if i%2 == 1 {
					order = []string{oca, real, shim}
				}
				for _, bin := range order {
					_, d := run(bin)
					switch bin {
					case shim:
						tShim += d
					case real:
						tReal += d
					default:
						tOca += d
					}
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(tShim.Nanoseconds())/n, "shim-ns/op")
			b.ReportMetric(float64(tReal.Nanoseconds())/n, "real-ns/op")
			b.ReportMetric(float64((tShim-tReal).Nanoseconds())/n, "extra-ns/op")
			b.ReportMetric(float64(tShim)/float64(tReal), "x-real")
			b.ReportMetric(float64(tOca.Nanoseconds())/n, "oca-version-ns/op")
		})
	}
}
