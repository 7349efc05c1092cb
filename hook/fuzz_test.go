package hook

import (
	"encoding/base64"
	"encoding/json"
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

// FuzzStateJSON: the record's JSON, written without reflection, is
// encoding/json's to the byte, for any strings (control characters, HTML's
// <>&, U+2028, invalid UTF-8 among them), any PID, nil or empty maps and
// nil previous values.
func FuzzStateJSON(f *testing.F) {
	f.Add(1, "work", "/p/.opencode-account.toml", 42, "XDG_DATA_HOME", "a 'b' $c\n", true, "/s/shim")
	f.Add(0, "", "", 0, "", "", false, "")
	f.Add(-7, "<a&b>", "\u2028\u2029\x00\x1f\x7f", -1, "\xff\xfe", "\"\\\b\f\r\t", true, "é\xc3")
	f.Fuzz(func(t *testing.T, v int, account, file string, pid int, key, value string, set bool, shim string) {
		for _, s := range []*State{
			{V: v, Account: account, File: file, PID: pid, Shim: shim},
			{V: v, Account: account, Prev: map[string]*string{}, Applied: map[string]string{}},
			{V: v, File: file, PID: pid,
				Prev:    map[string]*string{key: ptrIf(set, value), "OPENCODE_PORT": nil, value: &account},
				Applied: map[string]string{key: value, "XDG_DATA_HOME": fingerprint(value), file: shim}},
		} {
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := marshalState(s); string(got) != string(want) {
				t.Fatalf("marshalState(%+v)\n = %s\nwant %s", s, got, want)
			}
		}
	})
}

func ptrIf(set bool, v string) *string {
	if !set {
		return nil
	}
	return &v
}
