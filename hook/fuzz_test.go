package hook

import (
	"encoding/base64"
	"reflect"
	"testing"
)

func FuzzDecodeState(f *testing.F) {
	prev := "a 'b' $c\n"
	f.Add(EncodeState(&State{V: 1, Account: "work", File: "/p/f",
		Prev:    map[string]*string{"XDG_DATA_HOME": &prev, "OPENCODE_PORT": nil},
		Applied: map[string]string{"XDG_DATA_HOME": fingerprint("/d"), "OPENCODE_PORT": fingerprint("1")}}))
	f.Add(EncodeState(&State{V: 1}))
	for _, s := range []string{
		"", "garbage", "====", "e30", // {}
		`{"v":1}`, `{"v":1,"prev":{"XDG_DATA_HOME":null},"applied":{"XDG_DATA_HOME":"x"}}`,
		`{"v":1,"applied":{"PATH":"x"}}`, `{"v":2}`, `{"v":1,"V":2}`, `[1]`, `null`, `{"v":1.5}`,
		`{"v":1,"prev":{"OPENCODE_PORT":"\ud800"},"applied":{"OPENCODE_PORT":""}}`,
		"{\"v\":1,\"account\":\"\xff\"}",
	} {
		f.Add(s)
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := DecodeState(raw)
		if err != nil {
			return
		}
		enc := EncodeState(s)
		s2, err := DecodeState(enc)
		if err != nil {
			t.Fatalf("DecodeState(EncodeState(%+v)): %v", s, err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip: %+v became %+v", s, s2)
		}
		if again := EncodeState(s2); again != enc {
			t.Fatalf("encoding not stable: %q then %q", enc, again)
		}
		// What a decoded state may touch is oca's variables alone.
		env := Env{"PATH": "/bin", "HOME": "/h"}
		for k := range s.Applied {
			env[k] = "x"
		}
		o := Original(env, s)
		if o["PATH"] != "/bin" || o["HOME"] != "/h" {
			t.Fatalf("Original touched a variable oca does not manage: %v", o)
		}
	})
}
