package account

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeAccounts is the example accounts file of the README, with a second
// account written the way people write files: odd spacing, comments above
// and inside its tables, a multi-line array, blank lines.
func readmeAccounts(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)yours to edit:\n\n```toml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README: no accounts.toml example after \"yours to edit:\"")
	}
	return "# my accounts\n\n" + string(m[1]) + `
# the side project
[ accounts . "side" ]   # keep this one
  port=10002
  trusted_paths = [
    "~/src/side",   # the repo
  ]

  # its own proxy
[accounts.side.env]
  HTTP_PROXY = "http://127.0.0.1:3128"   # squid

# the last one
[accounts.last]
port = 10003
`
}

// diffLines returns the lines between the longest common head and tail of
// a and b: what one edit in one place removed and added.
func diffLines(a, b string) (gone, come []string) {
	al := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	bl := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	j := 0
	for j < len(al)-i && j < len(bl)-i && al[len(al)-1-j] == bl[len(bl)-1-j] {
		j++
	}
	return al[i : len(al)-j], bl[i : len(bl)-j]
}

// TestEditKeepsTheUsersFile runs add, import, a key change and remove on
// the README's example file: each changes the lines it must and no other.
func TestEditKeepsTheUsersFile(t *testing.T) {
	d := testDirs(t)
	orig := readmeAccounts(t)
	writeAccounts(t, d, orig)
	if _, err := Load(d); err != nil {
		t.Fatalf("the README's example does not load: %v", err)
	}
	step := func(name string, change func(*Registry) error, wantGone, wantCome []string) {
		t.Helper()
		before, _ := os.ReadFile(d.AccountsFile())
		if err := Update(d, change); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, _ := os.ReadFile(d.AccountsFile())
		gone, come := diffLines(string(before), string(after))
		if strings.Join(gone, "\n") != strings.Join(wantGone, "\n") || strings.Join(come, "\n") != strings.Join(wantCome, "\n") {
			t.Fatalf("%s: removed lines\n%s\nadded lines\n%s\nwant removed\n%s\nadded\n%s\nfile now:\n%s",
				name, strings.Join(gone, "\n"), strings.Join(come, "\n"), strings.Join(wantGone, "\n"), strings.Join(wantCome, "\n"), after)
		}
		if _, err := Load(d); err != nil {
			t.Fatalf("%s: the file no longer loads: %v", name, err)
		}
	}
	step("add", func(r *Registry) error {
		_, err := r.Add("new", AddOptions{Port: 10010})
		return err
	}, nil, []string{"", "[accounts.new]", "port = 10010", `data_home = "~/.local/share/oca/accounts/new"`, `state_home = "~/.local/state/oca/homes/new"`, `config_dir = "~/.config/oca/accounts/new"`})
	step("import", func(r *Registry) error {
		_, err := r.Add("imp", AddOptions{Port: 10011, DataHome: "~/.opencode_accounts/imp"})
		return err
	}, nil, []string{"", "[accounts.imp]", "port = 10011", `data_home = "~/.opencode_accounts/imp"`, `state_home = "~/.local/state/oca/homes/imp"`, `config_dir = "~/.config/oca/accounts/imp"`})
	step("trusted_paths", func(r *Registry) error {
		return r.SetTrustedPaths("work", []string{"~/src/work", "~/src/more"})
	}, []string{`trusted_paths = ["~/src/work"]                  # project files below these apply without ` + "`oca allow`"},
		[]string{`trusted_paths = ["~/src/work", "~/src/more"]                  # project files below these apply without ` + "`oca allow`"})
	step("multi-line trusted_paths", func(r *Registry) error {
		return r.SetTrustedPaths("side", nil)
	}, []string{`  trusted_paths = [`, `    "~/src/side",   # the repo`, `  ]`}, []string{`  trusted_paths = []`})
	step("systemd", func(r *Registry) error { return r.SetSystemd("work", true) },
		[]string{"systemd = false                                 # true: its server runs as the user unit oca@work"},
		[]string{"systemd = true                                 # true: its server runs as the user unit oca@work"})
	step("systemd, a key not written", func(r *Registry) error { return r.SetSystemd("last", true) },
		nil, []string{"systemd = true"})
	step("remove side", func(r *Registry) error { _, err := r.Remove("side"); return err },
		[]string{"# the side project", `[ accounts . "side" ]   # keep this one`, "  port=10002", "  trusted_paths = []", "",
			"  # its own proxy", "[accounts.side.env]", `  HTTP_PROXY = "http://127.0.0.1:3128"   # squid`, ""}, nil)
	step("remove work", func(r *Registry) error { _, err := r.Remove("work"); return err },
		[]string{"[accounts.work]",
			"port = 10001                                    # unique, 1024-65535",
			`data_home = "~/.local/share/oca/accounts/work"  # the account's XDG_DATA_HOME`,
			`state_home = "~/.local/state/oca/homes/work"    # its XDG_STATE_HOME`,
			`config_dir = "~/.config/oca/accounts/work"      # its OpenCode config layer (OPENCODE_CONFIG_DIR)`,
			`idle_timeout = "1h"                             # stop its server when unused this long; "0" = never`,
			`start_timeout = 120                             # seconds (or "2m") its server may take to become ready; default 120`,
			"attach = true                                   # `opencode` in its projects runs on its server (false: the plain OpenCode)",
			`trusted_paths = ["~/src/work", "~/src/more"]                  # project files below these apply without ` + "`oca allow`",
			"systemd = true                                 # true: its server runs as the user unit oca@work",
			"",
			"[accounts.work.env]                             # extra variables for the account's server and `oca exec`",
			`ANTHROPIC_BASE_URL = "https://llm-proxy.example.com"`,
			""}, nil)
	got, _ := os.ReadFile(d.AccountsFile())
	for _, keep := range []string{"# my accounts\n\nopencode = \"~/.npm-global/bin/opencode\"        # optional", "# the last one\n[accounts.last]\nport = 10003\nsystemd = true\n"} {
		if !strings.Contains(string(got), keep) {
			t.Errorf("lost %q:\n%s", keep, got)
		}
	}
}

// TestEditFallsBackWhereItCannotFollow: an inline table is a layout the
// line editor does not follow; the file is then written anew, and says
// what it must.
func TestEditFallsBackWhereItCannotFollow(t *testing.T) {
	d := testDirs(t)
	writeAccounts(t, d, "# mine\naccounts = { work = { port = 10001 } }\n")
	if err := Update(d, func(r *Registry) error { return r.SetSystemd("work", true) }); err != nil {
		t.Fatal(err)
	}
	r, err := Load(d)
	if err != nil || !r.Accounts["work"].Systemd {
		t.Fatalf("after the fallback: %v, %+v", err, r)
	}
}
