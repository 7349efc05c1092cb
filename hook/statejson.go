package hook

import (
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The record's JSON, written without reflection: encoding/json's first
// Marshal of a type builds its encoder through reflect, which on the
// entering path cost more than the rest of the encoding (oca-export runs
// once a prompt, so there is no second Marshal to amortise it). The bytes
// are encoding/json's own for a State (FuzzStateJSON holds them equal), so
// DecodeState still reads them with encoding/json, and a record written by
// an older oca reads the same.

// marshalState is json.Marshal(s).
func marshalState(s *State) []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(s.V), 10)
	b = append(b, `,"account":`...)
	b = appendJSONString(b, s.Account)
	b = append(b, `,"file":`...)
	b = appendJSONString(b, s.File)
	if s.PID != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(s.PID), 10)
	}
	b = append(b, `,"prev":`...)
	b = appendMap(b, s.Prev, func(b []byte, v *string) []byte {
		if v == nil {
			return append(b, "null"...)
		}
		return appendJSONString(b, *v)
	})
	b = append(b, `,"applied":`...)
	b = appendMap(b, s.Applied, appendJSONString)
	if s.Shim != "" {
		b = append(b, `,"shim":`...)
		b = appendJSONString(b, s.Shim)
	}
	return append(b, '}')
}

// appendMap appends m as encoding/json writes a map: null when nil, else
// its keys in order, each value by value.
func appendMap[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = value(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString appends s as encoding/json writes a string: HTML's <, >
// and & escaped, as are U+2028 and U+2029, and invalid UTF-8 replaced by
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
