package ignore

import (
	"fmt"
	"strings"
)

// TempPrefix starts the name of every temporary file the agent creates,
// locally or remotely. Such paths are ignored whatever the configuration.
const TempPrefix = ".syncagent-"

// Matcher is a compiled list of gitignore patterns. It is immutable after
// New and safe for concurrent use by any number of goroutines. The nil
// *Matcher ignores only the agent's temporary files.
type Matcher struct {
	rules []rule
}

// rule is one compiled pattern line.
type rule struct {
	segs     []segment
	negate   bool // "!pattern": re-include
	dirOnly  bool // "pattern/": directories only
	basename bool // no slash in the pattern: match the last component at any depth
}

// New compiles patterns written as in a .gitignore file: blank lines and
// lines starting with '#' are skipped, unescaped trailing spaces are
// dropped, '\' escapes the next character. When patterns overlap, the last
// one that matches decides, as in git. The error names the bad pattern.
func New(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	for i, p := range patterns {
		r, ok, err := compileRule(p)
		if err != nil {
			return nil, fmt.Errorf("ignore pattern %d %q: %w", i+1, p, err)
		}
		if ok {
			m.rules = append(m.rules, r)
		}
	}
	return m, nil
}

// compileRule compiles one pattern line; ok is false for a blank line or a
// comment.
func compileRule(line string) (r rule, ok bool, err error) {
	p := trimTrailingSpaces(strings.TrimRight(line, "\r\n"))
	if p == "" || p[0] == '#' {
		return rule{}, false, nil
	}
	if p[0] == '!' {
		r.negate = true
		p = p[1:]
	}
	if strings.HasSuffix(p, "/") {
		r.dirOnly = true
		p = strings.TrimRight(p, "/")
	}
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	for _, part := range strings.Split(p, "/") {
		if part == "" {
			continue // "a//b" is "a/b"
		}
		seg, err := compileSegment(part)
		if err != nil {
			return rule{}, false, err
		}
		// "**/**" is "**".
		if seg.any && len(r.segs) > 0 && r.segs[len(r.segs)-1].any {
			continue
		}
		r.segs = append(r.segs, seg)
	}
	if len(r.segs) == 0 {
		return rule{}, false, fmt.Errorf("pattern matches nothing")
	}
	if !anchored {
		r.basename = true
		return r, true, nil
	}
	// A trailing "/**" matches everything inside, not the directory itself.
	if n := len(r.segs); n > 1 && r.segs[n-1].any {
		r.segs = append(r.segs[:n-1], starSegment, segment{any: true})
	}
	return r, true, nil
}

// trimTrailingSpaces drops trailing spaces unless the last one is escaped
// with a backslash.
func trimTrailingSpaces(p string) string {
	for strings.HasSuffix(p, " ") {
		q := p[:len(p)-1]
		slashes := len(q) - len(strings.TrimRight(q, `\`))
		if slashes%2 == 1 {
			return p
		}
		p = q
	}
	return p
}

// Match reports whether relPath is ignored. relPath is slash-separated and
// relative to the folder root; empty and "." components are skipped. isDir
// says whether relPath itself is a directory. A path inside an ignored
// directory is ignored, and, as in git, cannot be re-included by a "!"
// pattern.
func (m *Matcher) Match(relPath string, isDir bool) bool {
	var buf [32]string
	segs := splitPath(relPath, buf[:0])
	if len(segs) == 0 {
		return false
	}
	for _, s := range segs {
		if strings.HasPrefix(s, TempPrefix) {
			return true
		}
	}
	if m == nil || len(m.rules) == 0 {
		return false
	}
	for k := 1; k < len(segs); k++ {
		if m.ignored(segs[:k], true) {
			return true
		}
	}
	return m.ignored(segs, isDir)
}

// ignored applies the rules to one path, ignoring its parents: the last
// rule that matches decides.
func (m *Matcher) ignored(segs []string, isDir bool) bool {
	for i := len(m.rules) - 1; i >= 0; i-- {
		r := &m.rules[i]
		if r.dirOnly && !isDir {
			continue
		}
		var hit bool
		if r.basename {
			hit = r.segs[0].match(segs[len(segs)-1])
		} else {
			hit = matchSegments(r.segs, segs)
		}
		if hit {
			return !r.negate
		}
	}
	return false
}

// splitPath appends the non-empty, non-"." components of p to dst.
func splitPath(p string, dst []string) []string {
	for p != "" {
		var part string
		if i := strings.IndexByte(p, '/'); i >= 0 {
			part, p = p[:i], p[i+1:]
		} else {
			part, p = p, ""
		}
		if part != "" && part != "." {
			dst = append(dst, part)
		}
	}
	return dst
}
