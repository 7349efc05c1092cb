package hook

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

func TestStateRoundTrip(t *testing.T) {
	s := &State{V: stateVersion, Account: "work", File: "/p/.opencode-account.toml", PID: 42,
		Prev:    map[string]*string{"XDG_DATA_HOME": strp("a 'b' \"c\" $d \\e\nf é"), "OPENCODE_PORT": nil},
		Applied: map[string]string{"XDG_DATA_HOME": fingerprint("/d"), "OPENCODE_PORT": fingerprint("1")}}
	enc := EncodeState(s)
	if strings.ContainsAny(enc, " \n'\"$\\=+/") {
		t.Fatalf("encoded state %q needs quoting", enc)
	}
	got, err := DecodeState(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip: %+v, want %+v", got, s)
	}
}

func TestStateHoldsNoPassword(t *testing.T) {
	w := newWorld(t)
	proj := w.project("proj", "work")
	base := map[string]string{"HOME": w.home, "OPENCODE_SERVER_PASSWORD": "users-own-secret"}
	env, _ := w.cd(base, proj)
	raw, err := base64.RawURLEncoding.DecodeString(env[StateVar])
	if err != nil {
		t.Fatal(err)
	}
	pw := env["OPENCODE_SERVER_PASSWORD"]
	if pw == "" || strings.Contains(string(raw), pw) {
		t.Fatalf("state %s carries the account password", raw)
	}
	// The user's previous value is kept to restore it, as it must be.
	if !strings.Contains(string(raw), "users-own-secret") {
		t.Fatalf("state %s lost the previous value", raw)
	}
}

func TestDecodeStateErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"!!", "not oca's encoding"},
		{base64.StdEncoding.EncodeToString([]byte(`{"v":1}`)), "not oca's encoding"},
		{base64.RawURLEncoding.EncodeToString([]byte("nope")), "not oca's record"},
		{encodeRaw(map[string]any{"v": 2}), "version 2"},
		{encodeRaw(map[string]any{"v": 1, "applied": map[string]string{"PATH": "x"}}), `"PATH"`},
		{encodeRaw(map[string]any{"v": 1, "prev": map[string]any{"OPENCODE_PORT": "1"}}), "applied none"},
		{strings.Repeat("e", maxStateLen+1), "too long"},
	} {
		if _, err := DecodeState(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("DecodeState(%.40q) = %v, want ~%q", tc.in, err, tc.msg)
		}
	}
}

// TestEnvFlag: oca's switches, read the one way.
func TestEnvFlag(t *testing.T) {
	for _, c := range []struct {
		value string
		def   bool
		want  bool
	}{
		{"", true, true}, {"", false, false},
		{"0", true, false}, {"false", true, false}, {"No", true, false}, {"OFF", true, false},
		{"1", false, true}, {"true", false, true}, {"yes", false, true}, {"on", false, true},
	} {
		env := Env{}
		if c.value != "" {
			env["OCA_X"] = c.value
		}
		if got := env.Flag("OCA_X", c.def); got != c.want {
			t.Errorf("OCA_X=%q (default %v): %v, want %v", c.value, c.def, got, c.want)
		}
	}
}
