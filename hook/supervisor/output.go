package supervisor

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
)

const (
	outputLines   = 20   // lines of OpenCode output kept for status.json
	maxLineLength = 1000 // longer lines are cut, after redaction
	maxLineRead   = 8192 // bytes of one line read before redaction
	redacted      = "[REDACTED]"
)

// keyPattern matches provider keys and bearer tokens that OpenCode might
// print (sk-..., sk-ant-..., Bearer ...); compiled when first used, not at
// every start of oca.
var keyPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(sk-[A-Za-z0-9_\-]{6,}|[Bb]earer\s+[A-Za-z0-9._~+/=\-]{8,})`)
})

// redactor removes secrets from text: the server password, the values of
// secret-looking variables of the account's env table, and anything shaped
// like a provider key.
type redactor struct {
	secrets []string
}

func newRedactor(password string, env []string) redactor {
	var r redactor
	if password != "" {
		r.secrets = append(r.secrets, password)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		u := strings.ToUpper(k)
		if len(v) >= 6 && (strings.Contains(u, "KEY") || strings.Contains(u, "TOKEN") ||
			strings.Contains(u, "SECRET") || strings.Contains(u, "PASSWORD")) {
			r.secrets = append(r.secrets, v)
		}
	}
	// Longest first, so a secret containing another is removed whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// with returns a redactor that also removes more secrets.
func (r redactor) with(more []string) redactor {
	secrets := slices.Clone(r.secrets)
	for _, m := range more {
		if len(m) >= 6 && !slices.Contains(secrets, m) {
			secrets = append(secrets, m)
		}
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return redactor{secrets: secrets}
}

func (r redactor) redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return keyPattern().ReplaceAllString(s, redacted)
}

// outputRing keeps the last lines of OpenCode's output, redacted.
type outputRing struct {
	mu    sync.Mutex
	lines []string
}

func (o *outputRing) add(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, line)
	if len(o.lines) > outputLines {
		o.lines = slices.Delete(o.lines, 0, len(o.lines)-outputLines)
	}
}

// last returns a copy of the kept lines.
func (o *outputRing) last() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lines)
}

func (o *outputRing) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = nil
}

// readLines reads r line by line until EOF and calls fn with each line
// redacted, then cut to maxLineLength.
func readLines(r io.Reader, red redactor, fn func(string)) {
	br := bufio.NewReaderSize(r, 4096)
	var line []byte
	emit := func() {
		s := red.redact(string(line))
		if len(s) > maxLineLength {
			s = s[:maxLineLength] + "…"
		}
		fn(s)
		line = line[:0]
	}
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(line) < maxLineRead {
			line = append(line, chunk[:min(len(chunk), maxLineRead-len(line))]...)
		}
		if err != nil {
			if len(line) > 0 {
				emit()
			}
			return
		}
		if !isPrefix {
			emit()
		}
	}
}
