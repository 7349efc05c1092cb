package projectfile

import "testing"

// TestStripJSONC: comments and trailing commas go, outside strings only.
func TestStripJSONC(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": [1, 2,], "b": {"c": 1, },}`:     `{"a": [1, 2], "b": {"c": 1 }}`,
		`{"s": "x, ]", "t": "y,}" , }`:         `{"s": "x, ]", "t": "y,}"  }`,
		"{\"u\": \"http://h/x\", // note\n}":   "{\"u\": \"http://h/x\" \n}",
		`{"e": "a\", }" /* c, } */, "f": 1}`:   `{"e": "a\", }"  , "f": 1}`,
		`{"g": [1, /* last */` + "\n\t" + `]}`: `{"g": [1  ` + "\n\t" + `]}`,
		`{"h": 1 , // x` + "\n" + `}`:          `{"h": 1  ` + "\n" + `}`,
		`[1,,2,]`:                              `[1,,2]`,
	} {
		if got := string(stripJSONC([]byte(in))); got != want {
			t.Errorf("stripJSONC(%q) = %q, want %q", in, got, want)
		}
	}
}
