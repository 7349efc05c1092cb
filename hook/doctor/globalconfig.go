package doctor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/shells"
)

// checkGlobalConfig: a provider key in OpenCode's global config
// (~/.config/opencode/opencode.json or .jsonc, provider.NAME.options.apiKey)
// is read by every account's OpenCode, whatever its data home.
func checkGlobalConfig(dirs account.Dirs) []Finding {
	dir := filepath.Join(filepath.Dir(dirs.Config), "opencode")
	var out []Finding
	for _, name := range []string{"opencode.json", "opencode.jsonc"} {
		path := filepath.Join(dir, name)
		data, err := account.ReadRegular(path, 1<<20)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			out = append(out, Finding{Check: "global config", Severity: Warn, What: err.Error(),
				Why: "oca cannot tell whether it holds keys that every account shares", Fix: "ls -l " + shells.Quote(path)})
			continue
		}
		var cfg struct {
			Provider map[string]struct {
				Options struct {
					APIKey any `json:"apiKey"`
				} `json:"options"`
			} `json:"provider"`
		}
		if err := json.Unmarshal(stripJSONC(data), &cfg); err != nil {
			continue // OpenCode says what is wrong with its own file
		}
		var keyed []string
		for p, v := range cfg.Provider {
			if s, ok := v.Options.APIKey.(string); ok && s != "" && !strings.HasPrefix(s, "{env:") {
				keyed = append(keyed, p)
			}
		}
		sort.Strings(keyed)
		if len(keyed) > 0 {
			out = append(out, Finding{Check: "global config", Severity: Warn,
				What: fmt.Sprintf("%s holds a key for %s (provider.%s.options.apiKey)", dirs.Abbrev(path), strings.Join(keyed, ", "), keyed[0]),
				Why:  "OpenCode reads the global config in every account: each of them uses that key",
				Fix:  fmt.Sprintf("move it into one account's config dir (e.g. %s/opencode.json), or log that account in: oca login ACCOUNT", dirs.Abbrev(dirs.DefaultConfigDir("ACCOUNT")))})
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: "global config", Severity: OK, What: "no provider key in OpenCode's global config"})
	}
	return out
}

// stripJSONC turns JSON with comments and trailing commas (OpenCode's
// .jsonc) into JSON: comments become spaces, a comma before } or ] goes.
func stripJSONC(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr:
			out = append(out, c)
			if c == '\\' && i+1 < len(b) {
				i++
				out = append(out, b[i])
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
			out = append(out, c)
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			i += 2
			for i+1 < len(b) && !(b[i] == '*' && b[i+1] == '/') {
				i++
			}
			i++
			out = append(out, ' ')
		case c == '}' || c == ']':
			// Drop a trailing comma before the closing bracket.
			j := len(out) - 1
			for j >= 0 && (out[j] == ' ' || out[j] == '\n' || out[j] == '\t' || out[j] == '\r') {
				j--
			}
			if j >= 0 && out[j] == ',' {
				out = append(out[:j], out[j+1:]...)
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}
