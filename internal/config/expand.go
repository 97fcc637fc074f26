package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Environment references are expanded in the raw text, before YAML parsing,
// so that a reference can stand anywhere a value can. Only the braced form
// ${NAME} is recognised: a bare $ is left alone, which keeps bcrypt hashes
// ("$2a$10$...") intact. "$${" writes a literal "${". References inside YAML
// comments are left as they are, so a commented-out example never needs its
// variable set. The value is escaped for the quoting it lands in, so a
// password holding quotes or backslashes survives "${PW}" and '${PW}'.
//
// Quoting is tracked one line at a time: a quoted scalar that continues onto
// the next line is unusual in a config file, and keeping the state per line
// means a misjudged quote can never affect more than its own line.

// quoting is where on a line the scanner stands.
type quoting int

const (
	unquoted quoting = iota
	doubleQuoted
	singleQuoted
)

// expand returns data with every ${NAME} replaced by lookup(NAME), and one
// error per bad or unset reference, each naming its line.
func expand(data []byte, lookup func(string) (string, bool)) ([]byte, []error) {
	if !strings.Contains(string(data), "${") {
		return data, nil
	}
	var out strings.Builder
	out.Grow(len(data))
	var errs []error
	for n, line := range strings.SplitAfter(string(data), "\n") {
		errs = append(errs, expandLine(&out, line, n+1, lookup)...)
	}
	return []byte(out.String()), errs
}

func expandLine(out *strings.Builder, line string, lineNo int, lookup func(string) (string, bool)) []error {
	var errs []error
	q := unquoted
	var prev byte // last non-blank byte outside quotes; 0 at the start of the line
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '$' && strings.HasPrefix(line[i:], "$${"):
			out.WriteString("${")
			i += 3
			continue
		case c == '$' && strings.HasPrefix(line[i:], "${"):
			n, err := expandRef(out, line[i:], q, lookup)
			if err != nil {
				errs = append(errs, lineErrorf(lineNo, "%s", err))
			}
			i += n
			prev = '$'
			continue
		}
		switch q {
		case unquoted:
			if c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
				out.WriteString(line[i:]) // a comment: copied verbatim
				return errs
			}
			if (c == '"' || c == '\'') && startsScalar(line, i, prev) {
				if c == '"' {
					q = doubleQuoted
				} else {
					q = singleQuoted
				}
			}
			if c != ' ' && c != '\t' {
				prev = c
			}
		case doubleQuoted:
			if c == '\\' && i+1 < len(line) {
				out.WriteString(line[i : i+2])
				i += 2
				continue
			}
			if c == '"' {
				q, prev = unquoted, c
			}
		case singleQuoted:
			if c == '\'' && i+1 < len(line) && line[i+1] == '\'' {
				out.WriteString("''")
				i += 2
				continue
			}
			if c == '\'' {
				q, prev = unquoted, c
			}
		}
		out.WriteByte(c)
		i++
	}
	return errs
}

// startsScalar reports whether a quote at line[i] opens a quoted scalar
// rather than being a character inside a plain one ("it's").
func startsScalar(line string, i int, prev byte) bool {
	if i > 0 && !strings.ContainsRune(" \t[{,", rune(line[i-1])) {
		return false
	}
	return prev == 0 || strings.IndexByte(":-[{,?", prev) >= 0
}

// expandRef writes the expansion of the reference at the start of s and
// returns how many bytes of s it consumed. On error it writes the reference
// unchanged, so the scan goes on and every bad reference gets reported.
func expandRef(out *strings.Builder, s string, q quoting, lookup func(string) (string, bool)) (int, error) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		ref := strings.TrimRight(s, "\r\n")
		out.WriteString(ref)
		return len(ref), fmt.Errorf(`%q has no closing "}"; write $${ for a literal "${"`, ref)
	}
	ref, name := s[:end+1], s[2:end]
	if !validEnvName(name) {
		out.WriteString(ref)
		return len(ref), fmt.Errorf(`%s is not a variable reference: only ${NAME} with letters, digits and _ is expanded (write $${ for a literal "${")`, ref)
	}
	val, ok := lookup(name)
	if !ok {
		out.WriteString(ref)
		return len(ref), fmt.Errorf("%s is not set", ref)
	}
	switch q {
	case doubleQuoted:
		out.WriteString(escapeDoubleQuoted(val))
	case singleQuoted:
		if strings.ContainsAny(val, "\r\n") {
			out.WriteString(ref)
			return len(ref), fmt.Errorf(`the value of %s has a line break, which single quotes cannot hold; write "%s" in double quotes`, ref, ref)
		}
		out.WriteString(strings.ReplaceAll(val, "'", "''"))
	default:
		if plainUnsafe(val) {
			out.WriteString(ref)
			return len(ref), fmt.Errorf(`the value of %s has characters YAML would misread here (a line break, ": ", " #", a leading symbol or blank); write "%s" in double quotes`, ref, ref)
		}
		out.WriteString(val)
	}
	return len(ref), nil
}

func validEnvName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// plainUnsafe reports whether val, pasted into an unquoted scalar, could
// change what the YAML means instead of just being its text.
func plainUnsafe(val string) bool {
	if val == "" {
		return false
	}
	if strings.ContainsAny(val, "\r\n\t") || strings.Contains(val, ": ") ||
		strings.Contains(val, " #") || strings.HasSuffix(val, ":") {
		return true
	}
	if strings.IndexByte("#&*!|>'\"%@`{[]},?", val[0]) >= 0 {
		return true
	}
	return strings.HasPrefix(val, "- ") || val[0] == ' ' || strings.HasSuffix(val, " ")
}

func escapeDoubleQuoted(val string) string {
	var b strings.Builder
	for _, r := range val {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// References returns the names of the environment variables the file at
// path refers to with ${NAME}, as Load would expand them (comments and
// $${ escapes excluded), sorted and without repeats. An installer uses it
// to learn what a service will need in its environment.
func References(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	seen := map[string]bool{}
	expand(data, func(name string) (string, bool) {
		seen[name] = true
		return "x", true
	})
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
