package main

// Benchmarks of what the shell hook costs, against direnv's cost for the same
// job measured in the same run (and mise's, and an empty Go program's, in
// Entering). Every iteration is one exec of a binary with
// the environment and working directory a shell would give it, as the hook
// does it. See docs/benchmarks.md; run with
//
//	go test -run '^$' -bench . -benchtime 200x ./cmd/oca/
//
// Each of Enter, Stay and Leave has three sub-benchmarks: oca and direnv
// alone (plain ns/op, for benchstat), and vs-direnv, which alternates the two
// within one loop and reports oca-ns/op, direnv-ns/op and their ratio
// x-direnv (the figure the issue sets a target for: at most 0.5 on enter and
// leave). Startup is the floor under them: both binaries' `version`.
// PromptUnchanged is the prompt where oca starts no process at all.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// benchOca is oca built as install.sh builds it, once per test process.
func benchOca(b *testing.B) string { return shelltest.Oca(b) }

// benchDirenv finds direnv: a benchmark that needs it skips without it,
// except under CI=true, where it fails.
func benchDirenv(b *testing.B) string {
	b.Helper()
	return testsys.NeedTool(b, "direnv")
}

// benchWorld is an isolated home with one oca account, a project bound to it
// with `oca init`, and an equivalent direnv project.
type benchWorld struct {
	oca, direnv string
	export      string // what the hook runs to export: oca-export, beside oca
	home        string
	ocaProj     string   // has .opencode-account.toml
	direnvProj  string   // has .envrc exporting the same five variables
	outside     []string // the environment outside any project
	ocaIn       []string // outside, after entering ocaProj (no PWD)
	direnvIn    []string // outside, after entering direnvProj (no PWD)
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	w := &benchWorld{oca: benchOca(b), direnv: benchDirenv(b)}
	w.export = filepath.Join(filepath.Dir(w.oca), "oca-export")
	home, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	w.home = home
	w.outside = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		// No server: these measure the hook against direnv's, and the
		// server's own cost on entering (a lock probe when it runs) has
		// its benchmark in hook/supervisor.
		"OCA_AUTOSTART=0",
	}
	for _, d := range []string{".config", ".local/state", ".local/share"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			b.Fatal(err)
		}
	}
	w.ocaProj = filepath.Join(home, "oca-project")
	w.direnvProj = filepath.Join(home, "direnv-project")
	for _, d := range []string{w.ocaProj, w.direnvProj} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}

	w.setup(b, home, w.oca, "account", "add", "work")
	w.setup(b, w.ocaProj, w.oca, "init", "work")
	var acc struct {
		Port         int    `json:"port"`
		URL          string `json:"url"`
		DataHome     string `json:"data_home"`
		PasswordFile string `json:"password_file"`
	}
	if err := json.Unmarshal([]byte(w.setup(b, home, w.oca, "account", "show", "work", "--json")), &acc); err != nil {
		b.Fatalf("oca account show --json: %v", err)
	}
	// The same --pid as ocaRun's: the runs after entering come from the
	// shell that entered.
	w.ocaIn = w.entered(b, w.ocaProj, `eval "$("$0" export bash --pid `+strconv.Itoa(os.Getpid())+`)"`)
	if got := envGet(w.ocaIn, "XDG_DATA_HOME"); got != acc.DataHome {
		b.Fatalf("after entering with oca, XDG_DATA_HOME=%q, want %q", got, acc.DataHome)
	}
	pw, err := os.ReadFile(acc.PasswordFile)
	if err != nil {
		b.Fatalf("the first enter made no password: %v", err)
	}

	envrc := fmt.Sprintf("export XDG_DATA_HOME=%s\nexport OPENCODE_ACCOUNT=work\nexport OPENCODE_PORT=%d\nexport OPENCODE_SERVER_URL=%s\nexport OPENCODE_SERVER_PASSWORD=%s\n",
		acc.DataHome, acc.Port, acc.URL, strings.TrimSpace(string(pw)))
	if err := os.WriteFile(filepath.Join(w.direnvProj, ".envrc"), []byte(envrc), 0o644); err != nil {
		b.Fatal(err)
	}
	w.setup(b, w.direnvProj, w.direnv, "allow")
	w.direnvIn = w.entered(b, w.direnvProj, `eval "$("$0" export bash)"`)
	for _, name := range []string{"XDG_DATA_HOME", "OPENCODE_ACCOUNT", "OPENCODE_PORT", "OPENCODE_SERVER_URL", "OPENCODE_SERVER_PASSWORD"} {
		if o, d := envGet(w.ocaIn, name), envGet(w.direnvIn, name); o != d || o == "" {
			b.Fatalf("%s: oca sets %q, direnv %q: the two projects are not equivalent", name, o, d)
		}
	}
	return w
}

// setup runs one command of the setup and returns its output.
func (w *benchWorld) setup(b *testing.B, dir, bin string, args ...string) string {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(slices.Clip(w.outside), "PWD="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String()
}

// entered runs script (with $0 the tool's binary) in bash, from the outside
// environment in dir, and returns the environment it leaves.
func (w *benchWorld) entered(b *testing.B, dir, script string) []string {
	b.Helper()
	bin := w.export
	if dir == w.direnvProj {
		bin = w.direnv
	}
	out := w.setup(b, dir, "bash", "-c", script+` && env -0`, bin)
	var env []string
	for kv := range strings.SplitSeq(strings.TrimSuffix(out, "\x00"), "\x00") {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "_", "SHLVL", "PWD", "OLDPWD":
		default:
			env = append(env, kv)
		}
	}
	return env
}

func envGet(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// hookRun is one run of `TOOL export bash` as a prompt would make it, with
// a check of its output so that a failure is never timed as a success.
type hookRun struct {
	name           string
	bin            string
	args           []string
	dir            string
	env            []string
	check          func(out string) error
	stdout, stderr bytes.Buffer
}

func (w *benchWorld) ocaRun(dir string, env []string, check func(string) error) *hookRun {
	return &hookRun{name: "oca", bin: w.export, args: []string{"export", "bash", "--pid", strconv.Itoa(os.Getpid())},
		dir: dir, env: append(slices.Clip(env), "PWD="+dir), check: check}
}

func (w *benchWorld) direnvRun(dir string, env []string, check func(string) error) *hookRun {
	return &hookRun{name: "direnv", bin: w.direnv, args: []string{"export", "bash"},
		dir: dir, env: append(slices.Clip(env), "PWD="+dir), check: check}
}

func (r *hookRun) run() error {
	r.stdout.Reset()
	r.stderr.Reset()
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.dir, r.env, &r.stdout, &r.stderr
	err := cmd.Run()
	if err == nil {
		err = r.check(r.stdout.String())
	}
	if err != nil {
		return fmt.Errorf("%s %s in %s: %v\nstdout: %s\nstderr: %s", r.name, strings.Join(r.args, " "), r.dir, err, r.stdout.Bytes(), r.stderr.Bytes())
	}
	return nil
}

func contains(subs ...string) func(string) error {
	return func(out string) error {
		for _, s := range subs {
			if !strings.Contains(out, s) {
				return fmt.Errorf("output lacks %q", s)
			}
		}
		return nil
	}
}

// benchPair runs the oca, direnv and vs-direnv sub-benchmarks.
func benchPair(b *testing.B, oca, direnv *hookRun) {
	for _, r := range []*hookRun{oca, direnv} {
		if err := r.run(); err != nil { // once untimed: fail before timing anything
			b.Fatal(err)
		}
	}
	for _, r := range []*hookRun{oca, direnv} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if err := r.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("vs-direnv", func(b *testing.B) {
		t := alternate(b, oca, direnv)
		tOca, tDirenv := t[0], t[1]
		n := float64(b.N)
		b.ReportMetric(float64(tOca.Nanoseconds())/n, "oca-ns/op")
		b.ReportMetric(float64(tDirenv.Nanoseconds())/n, "direnv-ns/op")
		b.ReportMetric(float64(tOca)/float64(tDirenv), "x-direnv")
	})
}

// alternate runs each of runs once per iteration, the first of them turning
// round from one iteration to the next, so that a change of the machine's
// load weighs on all alike, and returns the time each took in all.
func alternate(b *testing.B, runs ...*hookRun) []time.Duration {
	t := make([]time.Duration, len(runs))
	for i := 0; b.Loop(); i++ {
		for k := range runs {
			j := (i + k) % len(runs)
			t0 := time.Now()
			if err := runs[j].run(); err != nil {
				b.Fatal(err)
			}
			t[j] += time.Since(t0)
		}
	}
	return t
}

// BenchmarkEnter: a shell outside any project cds into one.
func BenchmarkEnter(b *testing.B) {
	w := newBenchWorld(b)
	benchPair(b,
		w.ocaRun(w.ocaProj, w.outside, contains("export XDG_DATA_HOME=", "export OPENCODE_SERVER_PASSWORD=", "export __OCA_STATE=")),
		w.direnvRun(w.direnvProj, w.outside, contains("export XDG_DATA_HOME=", "export OPENCODE_SERVER_PASSWORD=", "export DIRENV_DIFF=")))
}

// BenchmarkStay: the binary runs inside the project it entered and finds
// nothing to change (for oca: when a watched file's stamp says so; direnv
// runs at every prompt).
func BenchmarkStay(b *testing.B) {
	w := newBenchWorld(b)
	benchPair(b,
		w.ocaRun(w.ocaProj, w.ocaIn, func(out string) error {
			if strings.Contains(out, "export ") || strings.Contains(out, "unset ") || !strings.Contains(out, "__oca_watch=(") {
				return errors.New("want the shell's own bookkeeping alone, no variable changed")
			}
			return nil
		}),
		w.direnvRun(w.direnvProj, w.direnvIn, func(out string) error {
			if strings.TrimSpace(out) != "" {
				return errors.New("want no output")
			}
			return nil
		}))
}

// BenchmarkLeave: a shell inside the project cds to $HOME.
func BenchmarkLeave(b *testing.B) {
	w := newBenchWorld(b)
	benchPair(b,
		w.ocaRun(w.home, w.ocaIn, contains("unset OPENCODE_ACCOUNT", "unset __OCA_STATE", "export XDG_DATA_HOME=")),
		w.direnvRun(w.home, w.direnvIn, contains("unset OPENCODE_ACCOUNT", "unset DIRENV_DIFF", "export XDG_DATA_HOME=")))
}

// BenchmarkStartup is the floor under the three above: `oca version` and
// `direnv version`, which start the process and do nothing. Where Stay and
// Leave cost about what Startup costs, the work is not what to make faster.
func BenchmarkStartup(b *testing.B) {
	w := newBenchWorld(b)
	version := func(r *hookRun) *hookRun {
		r.args = []string{"version"}
		if r.name == "oca" {
			r.bin = w.oca
		}
		return r
	}
	benchPair(b,
		version(w.ocaRun(w.home, w.outside, contains("oca "))),
		version(w.direnvRun(w.home, w.outside, contains("2."))))
}

// promptScript times, inside one bash, n calls of the shell-side check that
// runs at every prompt, after one real run of oca. It swaps the binary's path
// for one that does not exist first: if any prompt of the loop decided to run
// oca, __oca_gone would tell.
const promptScript = `
eval "$("$0" hook bash)" || exit 10
n=$1
__oca_hook 2>/dev/null
[[ ${OPENCODE_ACCOUNT-} == work ]] || { echo "not entered" >&2; exit 11; }
__oca_bin=/nonexistent/oca
if __oca_stale; then echo "stale right after __oca_run" >&2; exit 12; fi
for ((k = 0; k < 100; k++)); do __oca_stale && exit 13; done # warm up
t0=$EPOCHREALTIME
for ((k = 0; k < n; k++)); do __oca_stale && exit 13; done
t1=$EPOCHREALTIME
for ((k = 0; k < n; k++)); do __oca_hook; done
t2=$EPOCHREALTIME
for ((k = 0; k < n; k++)); do false && exit 13; done
t3=$EPOCHREALTIME
[[ -z ${__oca_gone-} ]] || { echo "a prompt ran oca" >&2; exit 14; }
echo "$t0 $t1 $t2 $t3"
`

// leaveScript times, inside one bash, n prompts that leave the project: the
// shell finds no project file upward and undoes oca's variables itself, with
// no process. Each iteration re-enters by assigning the saved variables (no
// oca either: its binary is swapped for one that does not exist) and cds out
// and back; a second loop does the same without the hook, the baseline.
const leaveScript = `
eval "$("$0" hook bash)" || exit 10
n=$1 inside=$PWD outside=$2
__oca_hook 2>/dev/null
[[ ${OPENCODE_ACCOUNT-} == work ]] || { echo "not entered" >&2; exit 11; }
__oca_bin=/nonexistent/oca
v1=$XDG_DATA_HOME v2=$OPENCODE_ACCOUNT v3=$OPENCODE_PORT v4=$OPENCODE_SERVER_URL v5=$OPENCODE_SERVER_PASSWORD v6=$__OCA_STATE
f=$__oca_file u=("${__oca_undo[@]}") w=("${__oca_watch[@]}")
reenter() {
  export XDG_DATA_HOME=$v1 OPENCODE_ACCOUNT=$v2 OPENCODE_PORT=$v3 OPENCODE_SERVER_URL=$v4 OPENCODE_SERVER_PASSWORD=$v5 __OCA_STATE=$v6
  __oca_file=$f __oca_undo=("${u[@]}") __oca_watch=("${w[@]}")
}
cd "$outside" && __oca_hook
[[ -z ${OPENCODE_ACCOUNT-} && -z ${__OCA_STATE-} && $XDG_DATA_HOME != "$v1" ]] || { echo "did not leave" >&2; exit 12; }
cd "$inside"
t0=$EPOCHREALTIME
for ((k = 0; k < n; k++)); do reenter; cd "$outside"; __oca_hook; cd "$inside"; done
t1=$EPOCHREALTIME
for ((k = 0; k < n; k++)); do reenter; cd "$outside"; cd "$inside"; done
t2=$EPOCHREALTIME
[[ -z ${__oca_gone-} ]] || { echo "a prompt ran oca" >&2; exit 14; }
echo "$t0 $t1 $t2"
`

// direnvPromptScript times n prompts of direnv's own hook, which runs
// `direnv export bash` at every one.
const direnvPromptScript = `
eval "$("$0" hook bash)" || exit 10
n=$1
_direnv_hook 2>/dev/null
[[ ${OPENCODE_ACCOUNT-} == work ]] || { echo "not entered" >&2; exit 11; }
t0=$EPOCHREALTIME
for ((k = 0; k < n; k++)); do _direnv_hook; done
t1=$EPOCHREALTIME
[[ ${OPENCODE_ACCOUNT-} == work ]] || { echo "left" >&2; exit 11; }
echo "$t0 $t1"
`

// BenchmarkPromptUnchanged: a prompt in the directory the shell already
// entered, where the hook's shell code alone decides that nothing changed.
// Reports ns/op for one __oca_hook (the whole per-prompt cost), stale-ns/op
// for __oca_stale alone, loop-ns/op for an empty loop's iteration (the
// baseline), direnv-ns/op for one prompt of direnv's hook (an exec of
// direnv at every prompt, at most 200 of them timed) and x-direnv.
func BenchmarkPromptUnchanged(b *testing.B) {
	w := newBenchWorld(b)
	b.Run("bash", func(b *testing.B) {
		ocaT := w.bashTimes(b, w.oca, w.ocaProj, promptScript, b.N)
		// direnv's prompts cost milliseconds each: time at most 200 of
		// them, and keep them out of the timer that picks b.N.
		b.StopTimer()
		nd := min(b.N, 200)
		dT := w.bashTimes(b, w.direnv, w.direnvProj, direnvPromptScript, nd)
		b.StartTimer()
		n := float64(b.N)
		stale := (ocaT[1] - ocaT[0]) / n
		hook := (ocaT[2] - ocaT[1]) / n
		loop := (ocaT[3] - ocaT[2]) / n
		direnv := (dT[1] - dT[0]) / float64(nd)
		b.ReportMetric(hook, "ns/op")
		b.ReportMetric(stale, "stale-ns/op")
		b.ReportMetric(loop, "loop-ns/op")
		b.ReportMetric(direnv, "direnv-ns/op")
		b.ReportMetric(hook/direnv, "x-direnv")
	})
}

// BenchmarkLeaveInShell: a shell inside the project cds to $HOME, and its
// prompt leaves the project without starting a process. Reports ns/op for
// the hook's leave (the loop with the hook less the loop without it),
// direnv-ns/op for direnv's leave (one exec of `direnv export bash`, at most
// 200 timed) and x-direnv.
func BenchmarkLeaveInShell(b *testing.B) {
	w := newBenchWorld(b)
	dl := w.direnvRun(w.home, w.direnvIn, contains("unset OPENCODE_ACCOUNT", "unset DIRENV_DIFF"))
	b.Run("bash", func(b *testing.B) {
		ocaT := w.bashTimes(b, w.oca, w.ocaProj, leaveScript, b.N, w.home)
		b.StopTimer()
		nd := min(b.N, 200)
		t0 := time.Now()
		for range nd {
			if err := dl.run(); err != nil {
				b.Fatal(err)
			}
		}
		direnv := float64(time.Since(t0).Nanoseconds()) / float64(nd)
		b.StartTimer()
		n := float64(b.N)
		leave := ((ocaT[1] - ocaT[0]) - (ocaT[2] - ocaT[1])) / n
		b.ReportMetric(leave, "ns/op")
		b.ReportMetric(direnv, "direnv-ns/op")
		b.ReportMetric(leave/direnv, "x-direnv")
	})
}

// bashTimes runs script in bash from the outside environment in dir, with
// $0 = bin and $1 = n, and returns the $EPOCHREALTIME stamps it prints, in ns.
func (w *benchWorld) bashTimes(b *testing.B, bin, dir, script string, n int, more ...string) []float64 {
	b.Helper()
	cmd := exec.Command("bash", append([]string{"-c", script, bin, strconv.Itoa(n)}, more...)...)
	cmd.Dir = dir
	cmd.Env = append(slices.Clip(w.outside), "PWD="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s prompt loop: %v\n%s%s", filepath.Base(bin), err, stdout.Bytes(), stderr.Bytes())
	}
	if stderr.Len() > 0 {
		b.Fatalf("%s prompt loop said something, so it did more than check:\n%s", filepath.Base(bin), stderr.Bytes())
	}
	var ts []float64
	sc := bufio.NewScanner(&stdout)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		// $EPOCHREALTIME is seconds with six decimals: read it as integer
		// microseconds, which a float64 holds exactly.
		us, err := strconv.ParseInt(strings.Replace(sc.Text(), ".", "", 1), 10, 64)
		if err != nil || !strings.Contains(sc.Text(), ".") {
			b.Fatalf("%s prompt loop: bad time %q", filepath.Base(bin), sc.Text())
		}
		ts = append(ts, float64(us)*1e3)
	}
	if len(ts) < 2 {
		b.Fatalf("%s prompt loop printed %q", filepath.Base(bin), stdout.String())
	}
	return ts
}

// BenchmarkEnterServerUp: what entering a project costs more when the
// account's server runs (the hook takes a lease and probes the lock) than
// with no server involved (OCA_AUTOSTART=0), both by exec of `oca export`,
// alternated in one loop. The server is the supervisor's fake OpenCode,
// started once. Reports extra-ns/op, the difference per enter.
func BenchmarkEnterServerUp(b *testing.B) {
	w := newBenchWorld(b)
	fake := shelltest.FakeOpencode(b)
	accounts := filepath.Join(w.home, ".config", "oca", "accounts.toml")
	old, err := os.ReadFile(accounts)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(accounts, append([]byte("opencode = \""+fake+"\"\n"), old...), 0o600); err != nil {
		b.Fatal(err)
	}
	w.setup(b, w.home, w.oca, "server", "start", "work")
	b.Cleanup(func() {
		stop := exec.Command(w.oca, "server", "stop", "work")
		stop.Env = w.outside
		stop.Run()
	})
	w.setup(b, w.home, w.oca, "server", "wait", "work", "--timeout", "30s")

	var autostart []string
	for _, kv := range w.outside {
		if kv != "OCA_AUTOSTART=0" {
			autostart = append(autostart, kv)
		}
	}
	plain := w.ocaRun(w.ocaProj, w.outside, contains("export OPENCODE_PORT="))
	up := w.ocaRun(w.ocaProj, autostart, contains("export OPENCODE_PORT="))
	for _, r := range []*hookRun{plain, up} {
		if err := r.run(); err != nil {
			b.Fatal(err)
		}
	}
	t := alternate(b, plain, up)
	tPlain, tUp := t[0], t[1]
	n := float64(b.N)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "plain-ns/op")
	b.ReportMetric(float64(tUp.Nanoseconds())/n, "server-up-ns/op")
	b.ReportMetric(float64((tUp-tPlain).Nanoseconds())/n, "extra-ns/op")
}

// emptyGo builds an empty Go program as install.sh builds oca (static,
// stripped, with the same garbage collector: shelltest.BuildEnv): the
// floor under any Go binary's start.
func emptyGo(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	for name, text := range map[string]string{"go.mod": "module empty\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() {}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "empty")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	cmd.Dir, cmd.Env = dir, append(append(os.Environ(), shelltest.BuildEnv(b)...), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building an empty Go program: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkEntering: a shell outside any project cds into one, and its
// hook runs what it runs there, for oca (oca-export, as `oca hook`
// writes it where install.sh installed it), direnv (`direnv export bash`,
// an allowed .envrc) and mise (`mise hook-env -s bash`, a trusted mise.toml
// whose [env] sets the same five variables to the same values), beside an
// empty Go program, and `oca export bash` (oca-whole: the whole oca, which
// the hook runs where oca-export is not beside it), the five alternated in
// one loop. Reports ns/op (oca-export's), each one's ns/op, over-empty-ns/op
// (oca-export less the empty program), x-direnv, x-mise and x-oca-whole.
func BenchmarkEntering(b *testing.B) {
	w := newBenchWorld(b)
	mise := testsys.NeedTool(b, "mise")
	empty := emptyGo(b)
	miseProj := filepath.Join(w.home, "mise-project")
	if err := os.Mkdir(miseProj, 0o755); err != nil {
		b.Fatal(err)
	}
	toml := "[env]\n"
	for _, name := range []string{"XDG_DATA_HOME", "OPENCODE_ACCOUNT", "OPENCODE_PORT", "OPENCODE_SERVER_URL", "OPENCODE_SERVER_PASSWORD"} {
		toml += name + " = " + strconv.Quote(envGet(w.direnvIn, name)) + "\n"
	}
	if err := os.WriteFile(filepath.Join(miseProj, "mise.toml"), []byte(toml), 0o644); err != nil {
		b.Fatal(err)
	}
	w.setup(b, miseProj, mise, "trust")
	runs := []*hookRun{
		{name: "empty", bin: empty, dir: w.ocaProj, env: append(slices.Clip(w.outside), "PWD="+w.ocaProj), check: func(string) error { return nil }},
		w.ocaRun(w.ocaProj, w.outside, contains("export XDG_DATA_HOME=", "export OPENCODE_SERVER_PASSWORD=", "export __OCA_STATE=")),
		w.direnvRun(w.direnvProj, w.outside, contains("export XDG_DATA_HOME=", "export OPENCODE_SERVER_PASSWORD=", "export DIRENV_DIFF=")),
		{name: "mise", bin: mise, args: []string{"hook-env", "-s", "bash"}, dir: miseProj, env: append(slices.Clip(w.outside), "PWD="+miseProj),
			check: contains("export XDG_DATA_HOME=", "export OPENCODE_SERVER_PASSWORD=", "export OPENCODE_ACCOUNT=work")},
		w.ocaRun(w.ocaProj, w.outside, contains("export XDG_DATA_HOME=", "export OPENCODE_SERVER_PASSWORD=", "export __OCA_STATE=")),
	}
	runs[4].name, runs[4].bin = "oca-whole", w.oca // `oca export`, where oca-export is not installed
	for _, r := range runs {
		if err := r.run(); err != nil { // once untimed: fail before timing anything
			b.Fatal(err)
		}
	}
	t := alternate(b, runs...)
	n := float64(b.N)
	ns := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / n }
	b.ReportMetric(ns(t[1]), "ns/op")
	for i, r := range runs {
		b.ReportMetric(ns(t[i]), r.name+"-ns/op")
	}
	b.ReportMetric(ns(t[1]-t[0]), "over-empty-ns/op")
	b.ReportMetric(float64(t[1])/float64(t[2]), "x-direnv")
	b.ReportMetric(float64(t[1])/float64(t[3]), "x-mise")
	b.ReportMetric(float64(t[1])/float64(t[4]), "x-oca-whole")
}
