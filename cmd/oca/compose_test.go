package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/oca-sh/oca/hook/account"
)

// TestComposeFile parses the compose file as YAML and checks what matters
// for each account, then has Compose itself validate it: `docker compose
// config` where the plugin is installed, else Debian's docker-compose (CI
// installs it; a developer's machine without either skips that part).
func TestComposeFile(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	dirs := account.Dirs{Home: home, Config: home + "/.config/oca", State: home + "/.local/state/oca", Data: home + "/.local/share"}
	accs := []*account.Account{
		{Name: "work", Port: 10001, DataHome: home + "/data/work", ConfigDir: home + "/.config/oca/accounts/work",
			Env: map[string]string{"ANTHROPIC_BASE_URL": "https://proxy.example/$x", "SECRET_TOKEN": "tok-'quoted'-value"}},
		{Name: "my.client", Port: 10002, DataHome: home + "/data/with space", ConfigDir: home + "/cfg/my client"},
	}
	for _, a := range accs {
		if _, err := account.Password(dirs, a.Name); err != nil {
			t.Fatal(err)
		}
	}
	envFile := filepath.Join(dirs.RuntimeDir("work"), "compose.env")
	if err := os.WriteFile(envFile, []byte(envScript(accs[0].Env)), 0o600); err != nil {
		t.Fatal(err)
	}
	svcs := []composeService{
		{Account: accs[0], Projects: []string{home + "/src/app", home + "/src/lib"}, EnvFile: envFile},
		{Account: accs[1]},
	}
	text := composeFile(dirs, svcs, "ghcr.io/anomalyco/opencode:1.18.33")
	var doc struct {
		Version  *string `yaml:"version"`
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Ports       []string          `yaml:"ports"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, text)
	}
	if doc.Version != nil {
		t.Errorf("the obsolete version key: %q", *doc.Version)
	}
	for i, a := range accs {
		svc, ok := doc.Services["opencode-"+a.Name]
		if !ok {
			t.Fatalf("no service for %s:\n%s", a.Name, text)
		}
		if want := "127.0.0.1:" + itoa(a.Port) + ":4096"; len(svc.Ports) != 1 || svc.Ports[0] != want {
			t.Errorf("%s: ports %v, want [%s] (loopback only)", a.Name, svc.Ports, want)
		}
		// The data home's opencode/, the config dir and the projects, each
		// of the latter at its own path.
		want := []string{a.DataHome + "/opencode:/data/opencode", a.ConfigDir + ":" + a.ConfigDir}
		for _, p := range svcs[i].Projects {
			want = append(want, p+":"+p)
		}
		if strings.Join(svc.Volumes, "|") != strings.Join(want, "|") {
			t.Errorf("%s: volumes %v, want %v", a.Name, svc.Volumes, want)
		}
		if svc.Environment["XDG_DATA_HOME"] != "/data" || svc.Environment["OPENCODE_CONFIG_DIR"] != a.ConfigDir {
			t.Errorf("%s: environment %v", a.Name, svc.Environment)
		}
		secret := "oca-" + a.Name + "-password"
		if len(svc.Secrets) < 1 || svc.Secrets[0] != secret || doc.Secrets[secret].File != account.PasswordFile(dirs, a.Name) {
			t.Errorf("%s: password secret: %v, %v", a.Name, svc.Secrets, doc.Secrets)
		}
		if len(svc.Entrypoint) != 3 || !strings.Contains(svc.Entrypoint[2], "/run/secrets/"+secret) || !strings.Contains(svc.Entrypoint[2], "--hostname 0.0.0.0 --port 4096") {
			t.Errorf("%s: entrypoint %q", a.Name, svc.Entrypoint)
		}
		if strings.Contains(text, readPassword(dirs, a.Name)) {
			t.Errorf("the compose file holds %s's password itself", a.Name)
		}
	}
	// The env table: neither its keys nor its values in the file; a secret
	// the entrypoint sources.
	for k, v := range accs[0].Env {
		if strings.Contains(text, k) || strings.Contains(text, v) {
			t.Errorf("the compose file holds the env table's %s or its value:\n%s", k, text)
		}
	}
	work := doc.Services["opencode-work"]
	if len(work.Secrets) != 2 || work.Secrets[1] != "oca-work-env" || doc.Secrets["oca-work-env"].File != envFile ||
		!strings.HasPrefix(work.Entrypoint[2], ". /run/secrets/oca-work-env && ") {
		t.Errorf("the env secret: %v %v %q", work.Secrets, doc.Secrets, work.Entrypoint)
	}
	if len(doc.Services["opencode-my.client"].Secrets) != 1 {
		t.Errorf("an account without env gets an env secret: %v", doc.Services["opencode-my.client"].Secrets)
	}
	// The secret, sourced by sh, gives the values back exactly.
	out, err := exec.Command("sh", "-c", `. "$1" && printf '%s\n%s' "$ANTHROPIC_BASE_URL" "$SECRET_TOKEN"`, "sh", envFile).Output()
	if err != nil || string(out) != "https://proxy.example/$x\ntok-'quoted'-value" {
		t.Errorf("the env secret sourced: %q, %v", out, err)
	}

	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if exec.Command("docker", "compose", "version").Run() == nil {
		cmd = exec.Command("docker", "compose", "-f", file, "config", "-q")
	} else if _, err := exec.LookPath("docker-compose"); err == nil {
		cmd = exec.Command("docker-compose", "-f", file, "config", "-q")
	} else if os.Getenv("CI") == "true" {
		t.Fatal("neither docker compose nor docker-compose is installed, and CI must run every test")
	} else {
		t.Skip("neither docker compose nor docker-compose is installed: parsed as YAML only")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s\n%s", cmd.Args, err, out, text)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// readPassword is the account's password as its file holds it.
func readPassword(dirs account.Dirs, name string) string {
	data, _ := os.ReadFile(account.PasswordFile(dirs, name))
	return strings.TrimSpace(string(data))
}
