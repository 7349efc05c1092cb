package main

// oca compose: a Docker Compose file of the accounts' servers.

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/oca-sh/oca/hook/account"
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
}

func newComposeCmd(a *app) *cobra.Command {
	opts := &composeOptions{app: a}
	c := a.command(&cobra.Command{
		Use: "compose [ACCOUNT...]", Short: "print a Docker Compose file: one server per account",
		Example: examples(`oca compose > compose.yaml
			oca compose work --image ghcr.io/anomalyco/opencode:1.18.33`),
		RunE: func(c *cobra.Command, args []string) error { opts.Accounts = args; return composeRun(opts) },
	})
	c.Flags().StringVar(&opts.Image, "image", "", "the OpenCode `IMAGE` (default: "+composeImage+":VERSION of the opencode installed here)")
	return c
}

func composeRun(opts *composeOptions) error {
	reg, accs, err := opts.accounts(opts.Accounts)
	if err != nil {
		return err
	}
	if len(accs) == 0 {
		return fmt.Errorf("no accounts yet; add one with: oca account add NAME")
	}
	for _, acc := range accs {
		if _, err := account.Password(reg.Dirs(), acc.Name); err != nil {
			return err
		}
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
	_, err = fmt.Fprint(opts.stdout, composeFile(reg.Dirs(), accs, img))
	return err
}

// composeFile renders a Compose file that runs one `opencode serve` per
// account: its data home's opencode/ mounted as the container's, its port
// published on 127.0.0.1 only, its password read from a secret file. Every
// scalar is written as a JSON string, which YAML reads as the same string.
func composeFile(dirs account.Dirs, accs []*account.Account, image string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	b.WriteString("# Written by `oca compose`: one OpenCode server per account, in containers.\n")
	b.WriteString("# Save it as compose.yaml and run: docker compose up -d\n")
	b.WriteString("# Each server listens on 127.0.0.1 only and asks for the account's password.\n")
	b.WriteString("version: \"3.8\"\nservices:\n")
	user := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	for _, acc := range accs {
		secret := "oca-" + acc.Name + "-password"
		fmt.Fprintf(&b, "  %s:\n", q("opencode-"+acc.Name))
		fmt.Fprintf(&b, "    image: %s\n", q(image))
		fmt.Fprintf(&b, "    user: %s\n", q(user))
		cmd := fmt.Sprintf("OPENCODE_SERVER_PASSWORD=\"$$(cat /run/secrets/%s)\" exec opencode serve --hostname 0.0.0.0 --port %d", secret, containerPort)
		fmt.Fprintf(&b, "    entrypoint: [%s, %s, %s]\n", q("/bin/sh"), q("-c"), q(cmd))
		b.WriteString("    environment:\n")
		fmt.Fprintf(&b, "      XDG_DATA_HOME: %s\n", q("/data"))
		fmt.Fprintf(&b, "      HOME: %s\n", q("/tmp"))
		for _, k := range sortedKeys(acc.Env) {
			fmt.Fprintf(&b, "      %s: %s\n", q(k), q(acc.Env[k]))
		}
		b.WriteString("    volumes:\n")
		fmt.Fprintf(&b, "      - %s\n", q(acc.DataHome+"/opencode:/data/opencode"))
		b.WriteString("    ports:\n")
		fmt.Fprintf(&b, "      - %s\n", q(fmt.Sprintf("127.0.0.1:%d:%d", acc.Port, containerPort)))
		b.WriteString("    secrets:\n")
		fmt.Fprintf(&b, "      - %s\n", q(secret))
		fmt.Fprintf(&b, "    restart: %s\n", q("unless-stopped"))
	}
	b.WriteString("secrets:\n")
	for _, acc := range accs {
		fmt.Fprintf(&b, "  %s:\n", q("oca-"+acc.Name+"-password"))
		fmt.Fprintf(&b, "    file: %s\n", q(account.PasswordFile(dirs, acc.Name)))
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
