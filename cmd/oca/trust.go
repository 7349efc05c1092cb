package main

// oca allow and oca deny: trust or block a project file.

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/projectfile"
	"github.com/spf13/cobra"
)

type trustOptions struct {
	*app
	File string // the project file PATH means
}

func newAllowCmd(a *app) *cobra.Command {
	return newTrustCmd(a, "allow", "trust", "oca allow\noca allow ~/code/client", allowRun)
}

func newDenyCmd(a *app) *cobra.Command {
	return newTrustCmd(a, "deny", "block", "oca deny\noca deny ~/Downloads/repo", denyRun)
}

// newTrustCmd is allow or deny: alike but for what they record.
func newTrustCmd(a *app, verb, does, example string, run func(*trustOptions) error) *cobra.Command {
	opts := &trustOptions{app: a}
	return a.command(&cobra.Command{
		Use: verb + " [PATH]", Short: does + " the nearest project file (or the one at PATH)",
		Example: examples(example),
		RunE: func(c *cobra.Command, args []string) error {
			file, err := a.projectFile(first(args))
			if err != nil {
				return err
			}
			opts.File = file
			return run(opts)
		},
	})
}

func allowRun(opts *trustOptions) error {
	if data, err := projectfile.Read(opts.File); err == nil {
		if f, err := projectfile.Parse(opts.File, data); err == nil {
			if items, _, err := opts.projectCode(opts.File); err == nil {
				opts.sayProjectCode(f.Account, items)
			}
		}
	}
	f, err := opts.allow(opts.File)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "allowed %s (account %s)\n", opts.File, f.Account)
	if reg, err := opts.registry(); err == nil {
		if _, ok := reg.Accounts[f.Account]; !ok {
			fmt.Fprintf(opts.stderr, "oca: warning: account %s does not exist (yet): create it with: oca account add %s\n", f.Account, f.Account)
		}
	}
	return nil
}

func denyRun(opts *trustOptions) error {
	data, _ := projectfile.Read(opts.File)
	real, err := projectfile.RealPath(opts.File)
	if err != nil {
		return err
	}
	trust, err := opts.trustStore()
	if err != nil {
		return err
	}
	if err := trust.Deny(opts.File, real, data); err != nil {
		return err
	}
	fmt.Fprintf(opts.stdout, "denied %s\n", opts.File)
	return nil
}

// projectFile finds the project file that p (a file or a directory, or the
// working directory when "") means.
func (a *app) projectFile(p string) (string, error) {
	start := a.wd
	if p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(a.wd, p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		if !fi.IsDir() {
			return p, nil
		}
		start = p
	}
	path := projectfile.Find(start)
	if path == "" {
		return "", fmt.Errorf("no %s in %s or above it", projectfile.Name, start)
	}
	return path, nil
}

// trustStore is the user's trust records, in oca's state directory.
func (a *app) trustStore() (projectfile.Trust, error) {
	_, dirs, err := a.environ()
	if err != nil {
		return projectfile.Trust{}, err
	}
	if err := account.EnsurePrivateDir(dirs.State); err != nil {
		return projectfile.Trust{}, err
	}
	return projectfile.Trust{Dir: dirs.TrustDir()}, nil
}

// allow parses the file (a broken file is not allowed) and records it.
func (a *app) allow(path string) (*projectfile.File, error) {
	data, err := projectfile.Read(path)
	if err != nil {
		return nil, err
	}
	f, err := projectfile.Parse(path, data)
	if err != nil {
		return nil, err
	}
	real, err := projectfile.RealPath(path)
	if err != nil {
		return nil, err
	}
	trust, err := a.trustStore()
	if err != nil {
		return nil, err
	}
	// What the project's OpenCode config brings, recorded with the allow:
	// a client is refused when it changes (checkProjectCode).
	items, dirs, err := a.projectCode(path)
	if err != nil {
		return nil, err
	}
	if err := trust.Allow(path, real, data); err != nil {
		return nil, err
	}
	if err := trust.RecordCode(path, dirs, items); err != nil {
		return nil, err
	}
	// Judged once now, so that the record of that check is there at the
	// hook's next prompt: oca-export, which parses no TOML, then judges
	// this content without handing it to oca (a file this new is read
	// again, but not parsed). A judgement that cannot be made here costs
	// that prompt the hand-off, nothing more.
	if reg, err := a.registry(); err == nil {
		_, _ = trust.Judge(path, reg.TrustedPaths)
	}
	return f, nil
}
