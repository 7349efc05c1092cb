package main

// oca compose: a Docker Compose file of the accounts' servers.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oca-sh/oca/hook"
	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/projectfile"
	"github.com/spf13/cobra"
)

// composeImage is OpenCode's official container image.
const composeImage = "ghcr.io/anomalyco/opencode"

// containerPort is where OpenCode listens inside its container.
const containerPort = 4096

type composeOptions struct {
	*app
	Accounts []string // none: all of them
	Image    string   // "": OpenCode's official image, of the version installed here
	Projects []string // --project: the directories every server written may work in
}

func newComposeCmd(a *app) *cobra.Command {
	opts := &composeOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "compose [ACCOUNT...]", Short: "print a Docker Compose file: one server per account",
		Example: examples(`oca compose > compose.yaml
			oca compose work --project ~/src/app --image ghcr.io/anomalyco/opencode:1.18.33`),
		RunE: func(c *cobra.Command, args []string) error { opts.Accounts = args; return composeRun(opts) },
	})
	c.Flags().StringVar(&opts.Image, "image", "", "the OpenCode `IMAGE` (default: "+composeImage+":VERSION of the opencode installed here)")
	c.Flags().StringArrayVar(&opts.Projects, "project", nil, "mount project `DIR` at its own path (repeatable; default: the account's trusted_paths and the project you are in)")
	return c
}

// composeService is one account's server in the file, and what it sees.
type composeService struct {
	Account  *account.Account
	Projects []string // absolute directories, mounted at their own paths
	EnvFile  string   // the secret file holding the account's env table; "": none
}

func composeRun(opts *composeOptions) error {
	reg, accs, err := opts.accounts(opts.Accounts)
	if err != nil {
		return err
	}
	if len(accs) == 0 {
		return fmt.Errorf("no accounts yet; add one with: oca account add NAME")
	}
	dirs := reg.Dirs()
	given, err := opts.projectDirs(dirs, opts.Projects, "--project")
	if err != nil {
		return err
	}
	var svcs []composeService
	for _, acc := range accs {
		if _, err := account.Password(dirs, acc.Name); err != nil {
			return err
		}
		// Made now if absent: a directory Docker made for a mount would
		// be root's.
		if err := account.EnsureConfigDir(acc); err != nil {
			return err
		}
		svc := composeService{Account: acc, Projects: given}
		if len(opts.Projects) == 0 {
			if svc.Projects, err = opts.accountProjects(dirs, acc); err != nil {
				return err
			}
		}
		if len(acc.Env) > 0 {
			svc.EnvFile = filepath.Join(dirs.RuntimeDir(acc.Name), "compose.env")
			if err := atomicfile.Write(svc.EnvFile, []byte(envScript(acc.Env)), 0o600); err != nil {
				return fmt.Errorf("account %s: its env table for Compose: %w", acc.Name, err)
			}
			fmt.Fprintf(opts.stderr, "oca: wrote account %s's env table to %s (0600), which the file names as a secret\n", acc.Name, dirs.Abbrev(svc.EnvFile))
		}
		if len(svc.Projects) == 0 {
			fmt.Fprintf(opts.stderr, "oca: account %s: no project mounted (it has no trusted_paths, and you are in none of its projects); add --project DIR\n", acc.Name)
		}
		svcs = append(svcs, svc)
	}
	img := opts.Image
	if img == "" {
		img = composeImage + ":latest"
		if oc, err := opts.realOpencode(reg); err == nil {
			if v, err := opts.detect(oc); err == nil && v.Major == 1 && v.Text != "" {
				img = composeImage + ":" + v.Text
			}
		}
	}
	_, err = fmt.Fprint(opts.stdout, composeFile(dirs, svcs, img))
	return err
}

// accountProjects is what an account's server is given to work in, by
// default: its trusted_paths, and the project of the working directory
// when that is one of the account's.
func (a *app) accountProjects(dirs account.Dirs, acc *account.Account) ([]string, error) {
	var ps []string
	for _, tp := range acc.TrustedPaths {
		if isDir(tp) {
			ps = append(ps, tp)
		}
	}
	if f := projectfile.Find(a.wd); f != "" {
		if name, _, err := hook.Which(hook.Input{Env: hook.EnvFrom(a.env), PWD: a.wd}); err == nil && name == acc.Name {
			ps = append(ps, filepath.Dir(f))
		}
	}
	return a.projectDirs(dirs, ps, "project")
}

// projectDirs checks the directories to mount: absolute ("~" expanded,
// relative to the working directory), existing directories (Docker would
// make a missing one, as root), each once, none inside another.
func (a *app) projectDirs(dirs account.Dirs, in []string, what string) ([]string, error) {
	var out []string
	for _, p := range in {
		if strings.HasPrefix(p, "~") {
			e, err := dirs.Expand(p)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", what, p, err)
			}
			p = e
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(a.wd, p)
		}
		p = filepath.Clean(p)
		if !isDir(p) {
			return nil, fmt.Errorf("%s %s is not a directory; name an existing one", what, p)
		}
		if strings.Contains(p, ":") {
			return nil, fmt.Errorf("%s %s holds a colon, which a Compose volume cannot", what, p)
		}
		out = append(out, p)
	}
	sort.Strings(out)
	var kept []string
	for _, p := range out {
		if len(kept) > 0 && (p == kept[len(kept)-1] || strings.HasPrefix(p, kept[len(kept)-1]+"/")) {
			continue // within one mounted already
		}
		kept = append(kept, p)
	}
	return kept, nil
}

// envScript is an account's env table as sh assignments, exported, for
// the container's entrypoint to source from its secret.
func envScript(env map[string]string) string {
	var b strings.Builder
	b.WriteString("# Written by `oca compose`: the account's env table, sourced by its container.\n")
	for _, k := range sortedKeys(env) {
		fmt.Fprintf(&b, "export %s=%s\n", k, shSingleQuote(env[k]))
	}
	return b.String()
}

func shSingleQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// composeFile renders a Compose file that runs one `opencode serve` per
// account: its data home's opencode/ mounted as the container's, its
// config dir mounted at its own path and named by OPENCODE_CONFIG_DIR, its
// projects at their own paths (OpenCode's server reads, edits and runs
// commands in the directory a client names, on its own file system), its
// port published on 127.0.0.1 only, its password and its env table read
// from secret files: no secret is in the file. Every scalar is written as
// a JSON string, which YAML reads as the same string.
func composeFile(dirs account.Dirs, svcs []composeService, image string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	b.WriteString("# Written by `oca compose`: one OpenCode server per account, in containers.\n")
	b.WriteString("# Save it as compose.yaml and run: docker compose up -d\n")
	b.WriteString("# Each server listens on 127.0.0.1 only and asks for the account's password.\n")
	b.WriteString("# It sees its data home's opencode/, its config dir and the projects mounted below, each at its own path.\n")
	b.WriteString("services:\n")
	user := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	for _, svc := range svcs {
		acc := svc.Account
		secret := "oca-" + acc.Name + "-password"
		fmt.Fprintf(&b, "  %s:\n", q("opencode-"+acc.Name))
		fmt.Fprintf(&b, "    image: %s\n", q(image))
		fmt.Fprintf(&b, "    user: %s\n", q(user))
		cmd := fmt.Sprintf("OPENCODE_SERVER_PASSWORD=\"$$(cat /run/secrets/%s)\" exec opencode serve --hostname 0.0.0.0 --port %d", secret, containerPort)
		if svc.EnvFile != "" {
			cmd = fmt.Sprintf(". /run/secrets/oca-%s-env && %s", acc.Name, cmd)
		}
		fmt.Fprintf(&b, "    entrypoint: [%s, %s, %s]\n", q("/bin/sh"), q("-c"), q(cmd))
		b.WriteString("    environment:\n")
		fmt.Fprintf(&b, "      XDG_DATA_HOME: %s\n", q("/data"))
		fmt.Fprintf(&b, "      HOME: %s\n", q("/tmp"))
		if acc.ConfigDir != "" {
			fmt.Fprintf(&b, "      OPENCODE_CONFIG_DIR: %s\n", q(acc.ConfigDir))
		}
		b.WriteString("    volumes:\n")
		fmt.Fprintf(&b, "      - %s\n", q(acc.DataHome+"/opencode:/data/opencode"))
		if acc.ConfigDir != "" {
			fmt.Fprintf(&b, "      - %s\n", q(acc.ConfigDir+":"+acc.ConfigDir))
		}
		for _, p := range svc.Projects {
			fmt.Fprintf(&b, "      - %s\n", q(p+":"+p))
		}
		b.WriteString("    ports:\n")
		fmt.Fprintf(&b, "      - %s\n", q(fmt.Sprintf("127.0.0.1:%d:%d", acc.Port, containerPort)))
		b.WriteString("    secrets:\n")
		fmt.Fprintf(&b, "      - %s\n", q(secret))
		if svc.EnvFile != "" {
			fmt.Fprintf(&b, "      - %s\n", q("oca-"+acc.Name+"-env"))
		}
		fmt.Fprintf(&b, "    restart: %s\n", q("unless-stopped"))
	}
	b.WriteString("secrets:\n")
	for _, svc := range svcs {
		acc := svc.Account
		fmt.Fprintf(&b, "  %s:\n", q("oca-"+acc.Name+"-password"))
		fmt.Fprintf(&b, "    file: %s\n", q(account.PasswordFile(dirs, acc.Name)))
		if svc.EnvFile != "" {
			fmt.Fprintf(&b, "  %s:\n", q("oca-"+acc.Name+"-env"))
			fmt.Fprintf(&b, "    file: %s\n", q(svc.EnvFile))
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
