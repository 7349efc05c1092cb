package main

import (
	"slices"
	"testing"
)

// TestProxied: the server's URL gives way to the proxy's where a client
// takes a server (attach URL, run --attach URL, OpenCode 2's --server URL),
// and nowhere else (a prompt that happens to be the URL stays).
func TestProxied(t *testing.T) {
	t.Parallel()
	const url, p = "http://127.0.0.1:10001", "http://127.0.0.1:40000"
	for _, c := range []struct{ in, want []string }{
		{[]string{"attach", url, "--dir", "/d", "-c"}, []string{"attach", p, "--dir", "/d", "-c"}},
		{[]string{"run", "--attach", url, "--dir", "/d", url}, []string{"run", "--attach", p, "--dir", "/d", url}},
		{[]string{"--server", url}, []string{"--server", p}},
		{[]string{url}, []string{url}},
	} {
		in := slices.Clone(c.in)
		if got := proxied(c.in, url, p); !slices.Equal(got, c.want) {
			t.Errorf("proxied(%q) = %q, want %q", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("proxied changed its argument: %q", c.in)
		}
	}
}
