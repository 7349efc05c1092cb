package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys"
	"github.com/oca-sh/oca/internal/testsys/shelltest"
)

// TestComposeUp runs what `oca compose` writes, for real: two accounts'
// OpenCode servers in containers of an image made here from the npm
// package's own OpenCode binary (no registry is reachable), brought up by
// docker-compose. Each answers healthy on its loopback port, asks for its
// password, sees only its own auth.json; the files OpenCode writes into a
// data home belong to the user who ran `oca compose` (a throwaway non-root
// user); `down` leaves no container. It needs a Docker engine,
// docker-compose, busybox and opencode: it skips without them, and fails in
// CI, whose .ci/run installs them and starts dockerd.
func TestComposeUp(t *testing.T) {
	testsys.NeedDocker(t)
	image := opencodeImage(t, testsys.NeedOpencode(t))

	// A user of the machine, not root, writes the compose file.
	u := testsys.AddUser(t)
	user, uid, home := u.Name, u.UID, u.Home
	o := shelltest.NewUserOca(t, u)
	tryAsUser := func(args ...string) (string, error) {
		out, errOut, err := o.Run(home, args...)
		return out + errOut, err
	}
	asUser := func(args ...string) string {
		t.Helper()
		return o.Must(home, args...)
	}
	keys := map[string]string{"alpha": "sk-ant-compose-A", "beta": "sk-ant-compose-B"}
	ports := map[string]int{}
	last := testsys.Ports(t) - 1 // ports of the test's own block (newUserOca's is another)
	for _, name := range []string{"alpha", "beta"} {
		last = freeLoopbackPort(t, last+1)
		ports[name] = last
		asUser("account", "add", name, "--port", strconv.Itoa(ports[name]))
		auth := filepath.Join(home, ".local/share/oca/accounts", name, "opencode", "auth.json")
		asUser("exec", name, "--", "sh", "-c", `mkdir -p "$(dirname "$1")" && umask 077 && printf '%s' "$2" > "$1"`, "sh", auth,
			`{"anthropic":{"type":"api","key":"`+keys[name]+`"}}`)
	}
	// alpha's config dir declares a provider of its own, and a project
	// holds a file: the container's OpenCode must see both, the project at
	// its own path (a client names that path as its directory).
	cfgKey := "sk-cfgdir-alpha"
	writeAs(t, u, filepath.Join(home, ".config/oca/accounts/alpha/opencode.json"),
		`{"provider":{"cfgdir":{"npm":"@ai-sdk/openai-compatible","name":"From the config dir","options":{"baseURL":"http://127.0.0.1:9/v1","apiKey":"`+cfgKey+`"},"models":{"m":{"name":"m"}}}}}`)
	project := filepath.Join(home, "src", "app")
	writeAs(t, u, filepath.Join(project, "NOTE.txt"), "a note of the project\n")
	compose, errOut, err := o.Run(home, "compose", "--image", image, "--project", project)
	if err != nil {
		t.Fatalf("oca compose: %v\n%s", err, errOut)
	}
	file := filepath.Join(home, "compose.yaml")
	if err := os.WriteFile(file, []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}

	cproject := fmt.Sprintf("ocatest%d", os.Getpid())
	dc := func(args ...string) {
		t.Helper()
		cmd := exec.Command("docker-compose", append([]string{"-f", file, "-p", cproject}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	running := func() string {
		out, _ := exec.Command("docker", "ps", "-q", "--filter", "label=com.docker.compose.project="+cproject).Output()
		return strings.TrimSpace(string(out))
	}
	testsys.OnKill(t, "docker-compose", "-f", file, "-p", cproject, "down", "-t", "2")
	t.Cleanup(func() {
		if running() != "" {
			_ = exec.Command("docker-compose", "-f", file, "-p", cproject, "down", "-t", "2").Run()
		}
	})
	dc("up", "-d")

	for name, port := range ports {
		password := readTrimmed(t, filepath.Join(home, ".local/state/oca/accounts", name, "password"))
		var last string
		if !testsys.Poll(testsys.OpencodeWait(), func() bool {
			code, body := httpGet(port, "/global/health", password)
			last = fmt.Sprintf("%d %.200s", code, body)
			return code == http.StatusOK && strings.Contains(body, `"healthy":true`)
		}) {
			out, _ := exec.Command("docker-compose", "-f", file, "-p", cproject, "logs", "--tail", "30").CombinedOutput()
			t.Fatalf("%s's container is not healthy on port %d (last: %s)\n%s", name, port, last, out)
		}
		if code, _ := httpGet(port, "/config/providers", ""); code != http.StatusUnauthorized {
			t.Errorf("%s without its password: status %d, want 401", name, code)
		}
		// The first answers can be slow on a loaded machine: ask until one
		// comes, then judge it.
		var body string
		testsys.Poll(testsys.OpencodeWait(), func() bool {
			var code int
			code, body = httpGet(port, "/config/providers", password)
			return code == http.StatusOK
		})
		for other, key := range keys {
			if has := strings.Contains(body, key); has != (other == name) {
				t.Errorf("%s's server sees %s's key: %v", name, other, has)
			}
		}
		// The account's config dir is its own layer: alpha's provider is
		// alpha's alone. (The file used to mount no config dir.)
		if has := strings.Contains(body, `"cfgdir"`) && strings.Contains(body, cfgKey); has != (name == "alpha") {
			t.Errorf("%s's server sees the provider of alpha's config dir: %v\n%.400s", name, has, body)
		}
		// The project, at its own path: the server reads its file in the
		// directory a client names. (No project used to be mounted.)
		code, content := httpGet(port, "/file/content?path=NOTE.txt&directory="+url.QueryEscape(project), password)
		if code != http.StatusOK || !strings.Contains(content, "a note of the project") {
			t.Errorf("%s's server reading %s/NOTE.txt: %d %.300s", name, project, code, content)
		}
	}

	// The user marks alpha as served by Compose: oca starts no server for
	// it, and its clients reach the container through Docker's proxy (a
	// socket of root's, which may receive the password: root can read it
	// anyway), with the password.
	accounts := filepath.Join(home, ".config/oca/accounts.toml")
	text, err := os.ReadFile(accounts)
	if err != nil {
		t.Fatal(err)
	}
	marked := strings.Replace(string(text), "[accounts.alpha]\n", "[accounts.alpha]\nexternal = true\n", 1)
	if err := os.WriteFile(accounts, []byte(marked), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := tryAsUser("server", "start", "alpha"); err == nil || !strings.Contains(out, "runs elsewhere") {
		t.Errorf("oca server start of an external account: %v\n%s", err, out)
	}
	if out := asUser("server", "wait", "alpha", "--timeout", "60s"); !strings.Contains(out, "is ready") {
		t.Errorf("oca server wait alpha (in Compose): %s", out)
	}

	// What OpenCode wrote into alpha's data home is the user's.
	walked := 0
	err = filepath.Walk(filepath.Join(home, ".local/share/oca/accounts/alpha/opencode"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		walked++
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
			t.Errorf("%s is owned by uid %d, not %s's %d", p, st.Uid, user, uid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked < 3 {
		t.Errorf("OpenCode wrote %d entries into the data home: the container did not use it", walked)
	}

	dc("down", "-t", "5")
	if left := running(); left != "" {
		t.Errorf("containers left after down: %s", left)
	}
}

// opencodeImage makes (once per OpenCode binary) an image holding the
// installed OpenCode binary, busybox as /bin/sh and the C library files the
// binary links to, and returns its name.
func opencodeImage(t *testing.T, oc string) string {
	t.Helper()
	oc, err := filepath.EvalSymlinks(oc)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(oc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(fmt.Sprint(oc, fi.Size(), fi.ModTime().UnixNano())))
	image := "oca-test/opencode:" + hex.EncodeToString(sum[:6])
	if exec.Command("docker", "image", "inspect", image).Run() == nil {
		return image
	}
	root := t.TempDir()
	copyFile(t, oc, filepath.Join(root, "usr/local/bin/opencode"), 0o755)
	bb, _ := exec.LookPath("busybox")
	copyFile(t, bb, filepath.Join(root, "bin/busybox"), 0o755)
	for _, name := range []string{"sh", "cat", "env"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", name)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("ldd", oc).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", oc, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				real, err := filepath.EvalSymlinks(f)
				if err != nil {
					t.Fatal(err)
				}
				copyFile(t, real, filepath.Join(root, f), 0o755)
			}
		}
	}
	for _, dir := range []string{"tmp", "etc", "data"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o1777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, dir), 0o1777); err != nil {
			t.Fatal(err)
		}
	}
	tar := exec.Command("tar", "-C", root, "-c", ".")
	imp := exec.Command("docker", "import", "--change", "ENV PATH=/usr/local/bin:/bin", "-", image)
	pipe, err := tar.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	imp.Stdin = pipe
	if err := tar.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	if err := tar.Wait(); err != nil {
		t.Fatalf("tar: %v", err)
	}
	return image
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// freeLoopbackPort is the first port from `from` up, below the ephemeral
// range, that nothing listens on now.
func freeLoopbackPort(t *testing.T, from int) int {
	t.Helper()
	for p := from; p < 32000; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// httpGet sends one request to 127.0.0.1:port, with the password when
// given, and returns the status and the start of the body (0 when nothing
// answered).
func httpGet(port int, path, password string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	if password != "" {
		req.SetBasicAuth("opencode", password)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b)
}

// writeAs writes content to path, making its directories, all owned by
// u (a user's files, as the user would have written them).
func writeAs(t *testing.T, u *testsys.User, path, content string) {
	t.Helper()
	var made []string
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(made, path) {
		if err := os.Chown(p, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
}
