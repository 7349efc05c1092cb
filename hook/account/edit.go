package account

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/oca-sh/oca/projectfile"
)

// The accounts file is the user's: `oca account` edits it in place, line by
// line, and keeps every comment, blank line and spacing it does not have to
// change. A new account is a table added at the end; a removed one loses
// the lines of its tables ([accounts.NAME], [accounts.NAME.env]) and the
// comment block right above each; a changed key has its line's value
// replaced, its comment kept. The result is parsed back and compared with
// what was meant; a layout the line editor cannot follow (an inline table,
// dotted keys) falls back to writing the whole file anew.

// line is one line of the file, as the scanner saw it.
type line struct {
	text   string   // without its newline
	header []string // the table key of a [header] line, nil for others
	key    string   // the first key of a key/value line that starts here, "" for others
	end    int      // for a key/value line: the index of the line its value ends on
	blank  bool     // empty or white space
	remark bool     // a comment alone on its line
}

// scan splits data into lines and tells headers, key/value lines (with the
// line their value ends on: arrays and strings may span lines), comments
// and blank lines apart.
func scan(data []byte) []line {
	texts := strings.Split(string(data), "\n")
	if len(texts) > 0 && texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	lines := make([]line, len(texts))
	var st lexState
	owner := -1 // the key/value line whose value is still open
	for i, t := range texts {
		l := line{text: t}
		trimmed := strings.TrimSpace(t)
		if st.open() {
			st.feed(t)
			if !st.open() && owner >= 0 {
				lines[owner].end = i
				owner = -1
			}
			lines[i] = l
			continue
		}
		switch {
		case trimmed == "":
			l.blank = true
		case trimmed[0] == '#':
			l.remark = true
		case trimmed[0] == '[':
			l.header = headerKey(trimmed)
		default:
			if k, ok := firstKey(trimmed); ok {
				l.key = k
				l.end = i
				st.feed(t)
				if st.open() {
					owner = i
				}
			}
		}
		lines[i] = l
	}
	return lines
}

// lexState follows strings and brackets across lines.
type lexState struct {
	depth int    // open [ and {
	ml    string // `"""` or `'''` while inside a multi-line string
}

func (s *lexState) open() bool { return s.depth > 0 || s.ml != "" }

// feed follows one line, and returns where a comment starts on it, or -1.
func (s *lexState) feed(t string) int {
	for i := 0; i < len(t); i++ {
		if s.ml != "" {
			if strings.HasPrefix(t[i:], s.ml) {
				i += 2
				s.ml = ""
			} else if s.ml == `"""` && t[i] == '\\' {
				i++
			}
			continue
		}
		switch c := t[i]; c {
		case '#':
			return i
		case '"', '\'':
			q := t[i : i+1]
			if strings.HasPrefix(t[i:], q+q+q) {
				s.ml = q + q + q
				i += 2
				continue
			}
			for i++; i < len(t) && t[i:i+1] != q; i++ {
				if c == '"' && t[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			s.depth++
		case ']', '}':
			s.depth--
		}
	}
	return -1
}

// headerKey parses "[a . "b" ]  # c" into its key; nil for an array of
// tables or something it cannot read.
func headerKey(t string) []string {
	if strings.HasPrefix(t, "[[") {
		return nil
	}
	keys, rest, ok := parseKey(t[1:])
	if !ok || !strings.HasPrefix(rest, "]") {
		return nil
	}
	rest = strings.TrimSpace(rest[1:])
	if rest != "" && rest[0] != '#' {
		return nil
	}
	return keys
}

// firstKey reads the key of a key/value line; a dotted key is not followed.
func firstKey(t string) (string, bool) {
	keys, rest, ok := parseKey(t)
	if !ok || !strings.HasPrefix(rest, "=") {
		return "", false
	}
	if len(keys) != 1 {
		return "\x00dotted", true
	}
	return keys[0], true
}

// parseKey reads a dotted TOML key from the start of t.
func parseKey(t string) (keys []string, rest string, ok bool) {
	for {
		t = strings.TrimLeft(t, " \t")
		if t == "" {
			return nil, "", false
		}
		var k string
		switch t[0] {
		case '"':
			end := 1
			for end < len(t) && t[end] != '"' {
				if t[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(t) {
				return nil, "", false
			}
			u, err := strconv.Unquote(t[:end+1])
			if err != nil {
				return nil, "", false
			}
			k, t = u, t[end+1:]
		case '\'':
			end := strings.IndexByte(t[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			k, t = t[1:end+1], t[end+2:]
		default:
			n := 0
			for n < len(t) && (t[n] == '_' || t[n] == '-' || t[n] >= 'a' && t[n] <= 'z' || t[n] >= 'A' && t[n] <= 'Z' || t[n] >= '0' && t[n] <= '9') {
				n++
			}
			if n == 0 {
				return nil, "", false
			}
			k, t = t[:n], t[n:]
		}
		keys = append(keys, k)
		t = strings.TrimLeft(t, " \t")
		if !strings.HasPrefix(t, ".") {
			return keys, t, true
		}
		t = t[1:]
	}
}

// table is the span of one [header] table: its header line, the comment
// lines right above it, and its lines up to the next table's.
type table struct {
	key        []string
	start      int // first line, including the comment block above the header
	header     int
	end        int // one past its last line (the next table's comment block excluded)
	lastKeyEnd int // the last line of its last key/value, or the header
}

func tables(lines []line) []table {
	var ts []table
	for i, l := range lines {
		if l.header == nil && !(strings.HasPrefix(strings.TrimSpace(l.text), "[[")) {
			continue
		}
		start := i
		for start > 0 && lines[start-1].remark {
			start--
		}
		if n := len(ts); n > 0 {
			ts[n-1].end = start
		}
		ts = append(ts, table{key: l.header, start: start, header: i, end: len(lines), lastKeyEnd: i})
	}
	for n := range ts {
		for i := ts[n].header + 1; i < ts[n].end; i++ {
			if lines[i].key != "" {
				ts[n].lastKeyEnd = lines[i].end
			}
		}
	}
	return ts
}

// edit turns the file old (parsed as before) into one that says what r
// holds now, changing as few lines as it can. ok is false when the result
// would not say what r holds (a layout it cannot follow).
func (r *Registry) edit(old []byte, before map[string]accountTOML) (out []byte, ok bool) {
	lines := scan(old)
	texts := make([]string, len(lines))
	for i, l := range lines {
		texts[i] = l.text
	}
	drop := make([]bool, len(lines))
	replace := map[int][]string{} // line index → the lines that take its place (and up to its value's end)
	insertAfter := map[int][]string{}
	ts := tables(lines)
	mainTable := func(name string) *table {
		for i := range ts {
			if slices.Equal(ts[i].key, []string{"accounts", name}) {
				return &ts[i]
			}
		}
		return nil
	}
	for name, was := range before {
		a, still := r.Accounts[name]
		if !still {
			for _, t := range ts {
				if len(t.key) >= 2 && t.key[0] == "accounts" && t.key[1] == name {
					for i := t.start; i < t.end; i++ {
						drop[i] = true
					}
				}
			}
			continue
		}
		if reflect.DeepEqual(was, a.raw) {
			continue
		}
		if !reflect.DeepEqual(was.Env, a.raw.Env) {
			return nil, false
		}
		t := mainTable(name)
		if t == nil {
			return nil, false
		}
		oldKV, newKV := keyValues(was), keyValues(a.raw)
		for _, k := range sortedKeys(oldKV, newKV) {
			ov, nv := oldKV[k], newKV[k]
			if ov == nv {
				continue
			}
			found := -1
			for i := t.header + 1; i < t.end; i++ {
				if lines[i].key == k {
					found = i
				}
			}
			switch {
			case found >= 0:
				if nv == "" {
					nv = zeroValue(ov)
				}
				l := lines[found]
				indent := l.text[:len(l.text)-len(strings.TrimLeft(l.text, " \t"))]
				comment := trailingComment(lines, found, l.end)
				replace[found] = []string{indent + k + " = " + nv + comment}
				for i := found + 1; i <= l.end; i++ {
					drop[i] = true
				}
			case nv != "":
				insertAfter[t.lastKeyEnd] = append(insertAfter[t.lastKeyEnd], k+" = "+nv)
			}
		}
	}
	var buf bytes.Buffer
	kept := 0
	for i, t := range texts {
		if rep, ok := replace[i]; ok {
			for _, s := range rep {
				buf.WriteString(s + "\n")
			}
		} else if !drop[i] {
			buf.WriteString(t + "\n")
		} else {
			continue
		}
		kept++
		for _, s := range insertAfter[i] {
			buf.WriteString(s + "\n")
		}
	}
	// Removing the last table leaves the blank line that stood before it.
	out = bytes.TrimRight(buf.Bytes(), "\n \t")
	if len(out) > 0 {
		out = append(out, '\n')
	}
	if kept == 0 || len(strings.TrimSpace(string(out))) == 0 {
		out = []byte(fileHeader)
	}
	var added []string
	for name := range r.Accounts {
		if _, ok := before[name]; !ok {
			added = append(added, name)
		}
	}
	slices.Sort(added)
	for _, name := range added {
		tb, err := r.accountTable(name)
		if err != nil {
			return nil, false
		}
		out = append(out, '\n')
		out = append(out, tb...)
	}
	return out, r.says(out)
}

// says reports whether data, read as the accounts file, holds the
// registry's accounts as they are now.
func (r *Registry) says(data []byte) bool {
	var f fileTOML
	if err := projectfile.DecodeTOML(r.Path, data, &f, []string{envKeys}); err != nil || len(f.Accounts) != len(r.Accounts) {
		return false
	}
	for name, a := range r.Accounts {
		got, ok := f.Accounts[name]
		if !ok || !reflect.DeepEqual(keyValues(got), keyValues(a.raw)) || len(got.Env) != len(a.raw.Env) {
			return false
		}
		for k, v := range a.raw.Env {
			if got.Env[k] != v {
				return false
			}
		}
	}
	return true
}

// keyValues renders each key of an account's table (env aside) as TOML.
func keyValues(raw accountTOML) map[string]string {
	raw.Env = nil
	b, err := projectfile.EncodeTOML(raw)
	if err != nil {
		return nil
	}
	kv := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " = "); ok {
			kv[k] = v
		}
	}
	return kv
}

func sortedKeys(ms ...map[string]string) []string {
	var ks []string
	for _, m := range ms {
		for k := range m {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	return ks
}

// zeroValue is what a key that the encoder would now leave out is set to,
// where the user wrote it: false, [], "".
func zeroValue(old string) string {
	switch {
	case old == "true" || old == "false":
		return "false"
	case strings.HasPrefix(old, "["):
		return "[]"
	case strings.HasPrefix(old, `"`):
		return `""`
	}
	return "0"
}

// trailingComment returns the comment ending the value that starts on
// line from and ends on line to, with the spaces before it, or "".
func trailingComment(lines []line, from, to int) string {
	var st lexState
	for i := from; i < to; i++ {
		st.feed(lines[i].text)
	}
	t := lines[to].text
	if at := st.feed(t); at >= 0 {
		j := at
		for j > 0 && (t[j-1] == ' ' || t[j-1] == '\t') {
			j--
		}
		return t[j:]
	}
	return ""
}

const fileHeader = "# OpenCode accounts for oca: yours to edit; `oca account` changes only the lines it must.\n"

// accountTable renders one account's tables as a person would write them.
func (r *Registry) accountTable(name string) ([]byte, error) {
	var buf bytes.Buffer
	enc := func(v any) error {
		b, err := projectfile.EncodeTOML(v)
		if err != nil {
			return fmt.Errorf("encoding accounts: %w", err)
		}
		buf.Write(b)
		return nil
	}
	raw := r.Accounts[name].raw
	env := raw.Env
	raw.Env = nil
	key := tableKey(name)
	fmt.Fprintf(&buf, "[accounts.%s]\n", key)
	if err := enc(raw); err != nil {
		return nil, err
	}
	if len(env) > 0 {
		fmt.Fprintf(&buf, "\n[accounts.%s.env]\n", key)
		if err := enc(env); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
