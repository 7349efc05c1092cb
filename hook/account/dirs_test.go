package account

import (
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDirsFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Dirs
	}{
		{"defaults", map[string]string{"HOME": "/h"},
			Dirs{Home: "/h", Config: "/h/.config/oca", State: "/h/.local/state/oca", Data: "/h/.local/share"}},
		{"xdg set", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s/", "XDG_DATA_HOME": "/d//x/.."},
			Dirs{Home: "/h", Config: "/c/oca", State: "/s/oca", Data: "/d"}},
		{"relative and empty fall back", map[string]string{"HOME": "/h/", "XDG_CONFIG_HOME": "rel", "XDG_STATE_HOME": "", "XDG_DATA_HOME": "./d"},
			Dirs{Home: "/h", Config: "/h/.config/oca", State: "/h/.local/state/oca", Data: "/h/.local/share"}},
		{"tilde is not expanded", map[string]string{"HOME": "/h", "XDG_DATA_HOME": "~/d"},
			Dirs{Home: "/h", Config: "/h/.config/oca", State: "/h/.local/state/oca", Data: "/h/.local/share"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DirsFrom(envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("DirsFrom = %+v, want %+v", got, tc.want)
			}
		})
	}
	for _, home := range []string{"", "rel/home", "~"} {
		if _, err := DirsFrom(envOf(map[string]string{"HOME": home})); err == nil {
			t.Errorf("HOME=%q: no error", home)
		}
	}
}

func TestDirsPaths(t *testing.T) {
	d := Dirs{Home: "/h", Config: "/h/.config/oca", State: "/h/.local/state/oca", Data: "/h/.local/share"}
	for got, want := range map[string]string{
		d.AccountsFile():        "/h/.config/oca/accounts.toml",
		d.TrustDir():            "/h/.local/state/oca/trust",
		d.StampDir():            "/h/.local/state/oca/stamps",
		d.RuntimeDir("work"):    "/h/.local/state/oca/accounts/work",
		d.DefaultDataHome("w"):  "/h/.local/share/oca/accounts/w",
		d.StateHome():           "/h/.local/state",
		d.DefaultStateHome("w"): "/h/.local/state/oca/homes/w",
		PasswordFile(d, "work"): "/h/.local/state/oca/accounts/work/password",
		d.Abbrev("/h"):          "~",
		d.Abbrev("/h/x/y"):      "~/x/y",
		d.Abbrev("/hx"):         "/hx",
		d.Abbrev("/elsewhere"):  "/elsewhere",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for in, want := range map[string]string{"~": "/h", "~/a/../b": "/h/b", "/abs/": "/abs"} {
		if got, err := d.Expand(in); err != nil || got != want {
			t.Errorf("Expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "rel", "~user/x", "./x"} {
		if got, err := d.Expand(in); err == nil {
			t.Errorf("Expand(%q) = %q, want an error", in, got)
		}
	}
}
