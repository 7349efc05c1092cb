package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/projectfile"
)

// projectFile finds the project file that PATH (a file or a directory, or
// the working directory when none is given) means.
func (a *app) projectFile(pos []string) (string, error) {
	if len(pos) > 1 {
		return "", usagef("give at most one PATH")
	}
	start := a.wd
	if len(pos) == 1 {
		p := pos[0]
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

func (a *app) trustStore() (projectfile.Trust, account.Dirs, error) {
	_, dirs, err := a.environ()
	if err != nil {
		return projectfile.Trust{}, dirs, err
	}
	if err := account.EnsurePrivateDir(dirs.State); err != nil {
		return projectfile.Trust{}, dirs, err
	}
	return projectfile.Trust{Dir: dirs.TrustDir()}, dirs, nil
}

func (a *app) cmdAllow(pos []string) error {
	path, err := a.projectFile(pos)
	if err != nil {
		return err
	}
	f, err := a.allow(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "allowed %s (account %s)\n", path, f.Account)
	if reg, err := a.registry(); err == nil {
		if _, ok := reg.Accounts[f.Account]; !ok {
			fmt.Fprintf(a.stderr, "oca: warning: account %s does not exist (yet): create it with: oca account add %s\n", f.Account, f.Account)
		}
	}
	return nil
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
	trust, _, err := a.trustStore()
	if err != nil {
		return nil, err
	}
	return f, trust.Allow(path, real, data)
}

func (a *app) cmdDeny(pos []string) error {
	path, err := a.projectFile(pos)
	if err != nil {
		return err
	}
	real, err := projectfile.RealPath(path)
	if err != nil {
		return err
	}
	data, _ := projectfile.Read(path)
	trust, _, err := a.trustStore()
	if err != nil {
		return err
	}
	if err := trust.Deny(path, real, data); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "denied %s\n", path)
	return nil
}

func (a *app) cmdInit(pos []string, force bool) error {
	reg, err := a.registry()
	if err != nil {
		return err
	}
	var name string
	switch {
	case len(pos) == 1:
		name = pos[0]
	case len(reg.Accounts) == 1:
		name = reg.Names()[0]
	case len(reg.Accounts) == 0:
		return usagef("name the account: oca init ACCOUNT (you have none yet; oca init NAME creates it)")
	default:
		return usagef("name the account: oca init ACCOUNT (you have %s)", strings.Join(reg.Names(), ", "))
	}
	if err := projectfile.CheckAccountName(name); err != nil {
		return err
	}
	path := filepath.Join(a.wd, projectfile.Name)
	if _, err := os.Lstat(path); err == nil && !force {
		return fmt.Errorf("%s exists already (use --force to replace it)", path)
	}
	if _, ok := reg.Accounts[name]; !ok {
		acc, err := a.addAccount(name, account.AddOptions{})
		if err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		fmt.Fprintf(a.stdout, "created account %s: port %d, data home %s\n", acc.Name, acc.Port, reg.Dirs().Abbrev(acc.DataHome))
	}
	content := fmt.Sprintf("# This directory uses the OpenCode account %q (see: oca account show %s).\naccount = %q\n", name, name, name)
	if err := atomicfile.Write(path, []byte(content), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s\n", path)
	if _, err := a.allow(path); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "allowed it: this directory now uses account %s\n", name)
	return nil
}
