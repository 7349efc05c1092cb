package projectfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oca-sh/oca/internal/atomicfile"
	"github.com/oca-sh/oca/internal/regularfile"
	"github.com/oca-sh/oca/internal/safepath"
)

// CodeItem is one thing a project's own OpenCode config brings that runs
// code or sends the account's requests somewhere: a plugin or custom tool
// file, a package OpenCode installs for them, a plugin package, an MCP
// server's command or URL, a formatter's or LSP server's command, a
// provider's base URL. OpenCode loads them from the directory a client
// names and every directory above it in the repository; an account's
// server is shared by all its projects and lives for hours, so what one
// loads is loaded for all of them.
type CodeItem struct {
	Dir    string `json:"dir"`              // the directory it is found in, relative to the project's ("." for that)
	What   string `json:"what"`             // one line, for the user: "plugin .opencode/plugin/x.ts"
	Digest string `json:"digest,omitempty"` // a file's content hash; "" for a config entry, which What spells out
}

func (c CodeItem) key() string { return c.Dir + "\x00" + c.What }

// maxCodeFile bounds what is read of one config or code file.
const maxCodeFile = 4 << 20

// codeDirs are the directories under .opencode/ whose files OpenCode runs.
var codeDirs = []string{"plugin", "plugins", "tool", "tools"}

// ProjectCode lists the code a project's OpenCode config brings, for a
// client in dir: what lies in dir and each directory above it up to root,
// the project's directory (the one holding its project file). A dir
// outside root counts as root.
func ProjectCode(root, dir string) ([]CodeItem, error) {
	root = filepath.Clean(root)
	var items []CodeItem
	for _, rel := range CodeDirs(root, dir) {
		found, err := codeIn(filepath.Join(root, rel), rel)
		if err != nil {
			return nil, err
		}
		items = append(items, found...)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key() < items[j].key() })
	return items, nil
}

// codeIn is what directory d (rel from the project's) brings.
func codeIn(d, rel string) ([]CodeItem, error) {
	var items []CodeItem
	at := func(name string) string {
		if rel == "." {
			return name
		}
		return filepath.Join(rel, name)
	}
	for _, name := range []string{"opencode.json", "opencode.jsonc", ".opencode/opencode.json", ".opencode/opencode.jsonc"} {
		data, err := readCodeFile(filepath.Join(d, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		items = append(items, configCode(rel, at(name), data)...)
	}
	files := []string{".opencode/package.json"}
	for _, cd := range codeDirs {
		entries, err := os.ReadDir(filepath.Join(d, ".opencode", cd))
		if err != nil {
			continue
		}
		for _, e := range entries {
			files = append(files, filepath.Join(".opencode", cd, e.Name()))
		}
	}
	for _, name := range files {
		p := filepath.Join(d, name)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		kind := "plugin"
		switch {
		case strings.HasSuffix(name, "package.json"):
			kind = "packages OpenCode installs for plugins and tools:"
		case strings.Contains(name, "/tool"):
			kind = "custom tool"
		}
		var digest string
		if fi.Mode().IsRegular() {
			data, err := readCodeFile(p)
			if err != nil {
				return nil, err
			}
			digest = digestOf(data)
		} else {
			// A link or a directory: what it is, and where a link leads.
			target, _ := os.Readlink(p)
			digest = digestOf([]byte(fi.Mode().Type().String() + "\x00" + target))
		}
		items = append(items, CodeItem{Dir: rel, What: kind + " " + at(name), Digest: digest})
	}
	return items, nil
}

func readCodeFile(path string) ([]byte, error) {
	data, _, err := regularfile.Read(path, maxCodeFile, regularfile.FollowLinks) // as OpenCode reads it
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("project OpenCode config: %w", err)
	}
	return data, err
}

func digestOf(data []byte) string { return digest(data)[:16] }

// configCode is what one opencode.json(c) brings. A file that cannot be
// read as JSON with comments is one item, by its content: any change of
// it is a change.
func configCode(rel, name string, data []byte) []CodeItem {
	var cfg struct {
		Plugin   []string                   `json:"plugin"`
		MCP      map[string]json.RawMessage `json:"mcp"`
		Provider map[string]struct {
			Options struct {
				BaseURL string `json:"baseURL"`
			} `json:"options"`
			API string `json:"api"`
		} `json:"provider"`
		Formatter json.RawMessage `json:"formatter"`
		LSP       json.RawMessage `json:"lsp"`
	}
	if err := json.Unmarshal(stripJSONC(data), &cfg); err != nil {
		return []CodeItem{{Dir: rel, What: "config " + name + " (not JSON oca can read: judged by its content)", Digest: digestOf(data)}}
	}
	var items []CodeItem
	add := func(format string, args ...any) {
		items = append(items, CodeItem{Dir: rel, What: fmt.Sprintf(format, args...) + " (" + name + ")"})
	}
	for _, p := range cfg.Plugin {
		add("plugin package %s", p)
	}
	for _, n := range sortedNames(cfg.MCP) {
		var m struct {
			Command []string `json:"command"`
			URL     string   `json:"url"`
		}
		_ = json.Unmarshal(cfg.MCP[n], &m)
		switch {
		case len(m.Command) > 0:
			add("MCP server %s: command %s", n, strings.Join(m.Command, " "))
		case m.URL != "":
			add("MCP server %s: URL %s", n, m.URL)
		default:
			add("MCP server %s: %s", n, compact(cfg.MCP[n]))
		}
	}
	for _, n := range sortedNames(cfg.Provider) {
		p := cfg.Provider[n]
		if p.Options.BaseURL != "" {
			add("provider %s: base URL %s", n, p.Options.BaseURL)
		}
		if p.API != "" {
			add("provider %s: API %s", n, p.API)
		}
	}
	for what, raw := range map[string]json.RawMessage{"formatter": cfg.Formatter, "LSP server": cfg.LSP} {
		var m map[string]struct {
			Command []string `json:"command"`
		}
		if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, n := range sortedNames(m) {
			if len(m[n].Command) > 0 {
				add("%s %s: command %s", what, n, strings.Join(m[n].Command, " "))
			}
		}
	}
	return items
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// stripJSONC turns OpenCode's JSON with comments into JSON: // and /* */
// comments outside strings go, and trailing commas (a comma that only
// white space and comments separate from a closing } or ]). Written out
// rather than with regexp, which would alter strings too, and which the
// hook's binary, linking this package, would initialise at every entry.
func stripJSONC(data []byte) []byte {
	var out bytes.Buffer
	inStr, esc := false, false
	comma := false // a comma is pending: written before what follows, unless that closes
	var gap []byte // the white space after a pending comma
	flush := func(next byte) {
		if comma && next != '}' && next != ']' {
			out.WriteByte(',')
		}
		out.Write(gap)
		comma, gap = false, gap[:0]
	}
	space := func(c byte) {
		if comma {
			gap = append(gap, c)
		} else {
			out.WriteByte(c)
		}
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inStr:
			out.WriteByte(c)
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			space('\n')
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				i = len(data)
			} else {
				i += end + 3
			}
			space(' ')
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space(c)
		default:
			flush(c)
			if c == ',' {
				comma = true
				continue
			}
			inStr = c == '"'
			out.WriteByte(c)
		}
	}
	flush(0)
	return out.Bytes()
}

// codeRecord is the file that holds what the code of the project file
// found at found was when it was last allowed.
func (t Trust) codeRecord(found string) string {
	return filepath.Join(t.Dir, "code", digest([]byte(filepath.Clean(found))))
}

// RecordCode records items as the allowed code of the project whose file
// was found at found: for the directories they were looked for in (dirs,
// relative to the project's), replacing what was recorded for those; what
// was recorded for other directories stays.
func (t Trust) RecordCode(found string, dirs []string, items []CodeItem) error {
	old, _ := t.RecordedCode(found)
	looked := map[string]bool{}
	for _, d := range dirs {
		looked[d] = true
	}
	var keep []CodeItem
	for _, it := range old {
		if !looked[it.Dir] {
			keep = append(keep, it)
		}
	}
	keep = append(keep, items...)
	if keep == nil {
		keep = []CodeItem{}
	}
	data, err := json.Marshal(keep)
	if err != nil {
		return err
	}
	path := t.codeRecord(found)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}

// RecordedCode is what RecordCode recorded for the project file found at
// found; ok is false when nothing was (allowed before oca recorded code).
func (t Trust) RecordedCode(found string) (items []CodeItem, ok bool) {
	data, _, err := regularfile.Read(t.codeRecord(found), maxCodeFile, regularfile.NoLinks)
	if err != nil {
		return nil, false
	}
	if json.Unmarshal(data, &items) != nil {
		return nil, false
	}
	return items, true
}

// CodeChanges is what of now was not allowed: each item new since the
// record, or changed (a file's content), one line each.
func CodeChanges(recorded, now []CodeItem) []string {
	was := map[string]string{}
	for _, it := range recorded {
		was[it.key()] = it.Digest
	}
	var out []string
	for _, it := range now {
		d, ok := was[it.key()]
		switch {
		case !ok:
			out = append(out, it.What+" (new)")
		case d != it.Digest:
			out = append(out, it.What+" (changed)")
		}
	}
	return out
}

// CodeDirs are the directories, relative to root, that ProjectCode looks
// in for a client in dir.
func CodeDirs(root, dir string) []string {
	root = filepath.Clean(root)
	if !safepath.Within(filepath.Clean(dir), root) {
		dir = root
	}
	var dirs []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			break
		}
		dirs = append(dirs, rel)
		if d == root || d == filepath.Dir(d) {
			break
		}
	}
	return dirs
}
