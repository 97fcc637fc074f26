package ignore

import (
	"errors"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of one element of a compiled segment glob.
type tokKind uint8

const (
	tokRune  tokKind = iota // one literal rune
	tokAny                  // '?': any one rune
	tokStar                 // '*': any run of runes, possibly empty
	tokClass                // '[...]': one rune from a set
)

// token is one element of a segment glob.
type token struct {
	kind  tokKind
	r     rune
	class *charClass
}

// runeRange is an inclusive range of runes inside a bracket expression.
type runeRange struct{ lo, hi rune }

// charClass is a compiled bracket expression such as [a-z], [!0-9] or
// [[:alpha:]_].
type charClass struct {
	negate bool
	ranges []runeRange
	named  []func(rune) bool
}

func (c *charClass) contains(r rune) bool {
	in := false
	for _, rr := range c.ranges {
		if rr.lo <= r && r <= rr.hi {
			in = true
			break
		}
	}
	if !in {
		for _, f := range c.named {
			if f(r) {
				in = true
				break
			}
		}
	}
	return in != c.negate
}

func (t token) matches(r rune) bool {
	switch t.kind {
	case tokRune:
		return t.r == r
	case tokAny:
		return true
	case tokClass:
		return t.class.contains(r)
	}
	return false
}

// segment is one compiled component of a pattern: a literal name, a glob,
// or "**" (any number of whole components).
type segment struct {
	literal string
	glob    []token // nil for a literal
	any     bool    // "**"
}

// match reports whether one path component matches the segment. A "**"
// segment asked about a single component matches anything.
func (s *segment) match(name string) bool {
	switch {
	case s.any:
		return true
	case s.glob == nil:
		return s.literal == name
	default:
		return matchGlob(s.glob, name)
	}
}

// starSegment matches any one path component; it stands in front of a
// trailing "**" so that "dir/**" matches what is inside dir but not dir.
var starSegment = segment{glob: []token{{kind: tokStar}}}

var (
	errTrailingBackslash = errors.New("trailing backslash")
	errUnclosedClass     = errors.New("unterminated character class")
	errBadRange          = errors.New("bad character range")
	errBadNamedClass     = errors.New("unknown character class name")
)

// posixClasses are the [:name:] sets git accepts inside brackets.
var posixClasses = map[string]func(rune) bool{
	"alnum":  func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) },
	"alpha":  unicode.IsLetter,
	"blank":  func(r rune) bool { return r == ' ' || r == '\t' },
	"cntrl":  unicode.IsControl,
	"digit":  unicode.IsDigit,
	"graph":  func(r rune) bool { return unicode.IsGraphic(r) && !unicode.IsSpace(r) },
	"lower":  unicode.IsLower,
	"print":  unicode.IsPrint,
	"punct":  unicode.IsPunct,
	"space":  unicode.IsSpace,
	"upper":  unicode.IsUpper,
	"xdigit": func(r rune) bool { return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F' },
}

// compileSegment compiles one slash-free component of a pattern.
func compileSegment(s string) (segment, error) {
	if s == "**" {
		return segment{any: true}, nil
	}
	var toks []token
	lit := make([]byte, 0, len(s)) // unescaped bytes, kept apart so invalid UTF-8 survives
	meta := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '\\':
			if i >= len(s) {
				return segment{}, errTrailingBackslash
			}
			r, n = utf8.DecodeRuneInString(s[i:])
			lit = append(lit, s[i:i+n]...)
			i += n
			toks = append(toks, token{kind: tokRune, r: r})
		case '?':
			meta = true
			toks = append(toks, token{kind: tokAny})
		case '*':
			meta = true
			// A run of stars inside a component is one star.
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '[':
			meta = true
			c, used, err := compileClass(s[i:])
			if err != nil {
				return segment{}, err
			}
			i += used
			toks = append(toks, token{kind: tokClass, class: c})
		default:
			lit = append(lit, s[i-n:i]...)
			toks = append(toks, token{kind: tokRune, r: r})
		}
	}
	if !meta {
		// Escapes only: keep the unescaped literal for a plain comparison.
		return segment{literal: string(lit)}, nil
	}
	return segment{glob: toks}, nil
}

// compileClass compiles a bracket expression; s starts just after '['. It
// returns how many bytes of s, including the closing ']', it consumed.
func compileClass(s string) (*charClass, int, error) {
	c := &charClass{}
	i := 0
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		c.negate = true
		i++
	}
	first := true
	for {
		if i >= len(s) {
			return nil, 0, errUnclosedClass
		}
		if s[i] == ']' && !first {
			return c, i + 1, nil
		}
		first = false
		if s[i] == '[' && i+1 < len(s) && s[i+1] == ':' {
			end := indexFrom(s, ":]", i+2)
			if end < 0 {
				return nil, 0, errUnclosedClass
			}
			f, ok := posixClasses[s[i+2:end]]
			if !ok {
				return nil, 0, errBadNamedClass
			}
			c.named = append(c.named, f)
			i = end + 2
			continue
		}
		lo, n, err := classRune(s, i)
		if err != nil {
			return nil, 0, err
		}
		i += n
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, n, err = classRune(s, i+1)
			if err != nil {
				return nil, 0, err
			}
			i += 1 + n
			if hi < lo {
				return nil, 0, errBadRange
			}
		}
		c.ranges = append(c.ranges, runeRange{lo, hi})
	}
}

// classRune reads one possibly escaped rune of a bracket expression at s[i:].
func classRune(s string, i int) (rune, int, error) {
	if s[i] == '\\' {
		if i+1 >= len(s) {
			return 0, 0, errUnclosedClass
		}
		r, n := utf8.DecodeRuneInString(s[i+1:])
		return r, 1 + n, nil
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return r, n, nil
}

func indexFrom(s, sub string, from int) int {
	for j := from; j+len(sub) <= len(s); j++ {
		if s[j:j+len(sub)] == sub {
			return j
		}
	}
	return -1
}

// matchGlob matches one path component against a glob. It is the classic
// greedy matcher that backtracks only to the last star, so it runs in
// O(len(toks)*len(s)) and never recurses.
func matchGlob(toks []token, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			if t.kind == tokStar {
				starT, starS = ti, si
				ti++
				continue
			}
			if si < len(s) {
				r, n := utf8.DecodeRuneInString(s[si:])
				if t.matches(r) {
					ti++
					si += n
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, ti = starS, starT+1
	}
}

// matchSegments matches path components against pattern segments where a
// "**" segment stands for zero or more whole components. Same greedy
// algorithm as matchGlob, one level up.
func matchSegments(pat []segment, path []string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(pat) {
			if pat[pi].any {
				starP, starS = pi, si
				pi++
				continue
			}
			if si < len(path) && pat[pi].match(path[si]) {
				pi++
				si++
				continue
			}
		} else if si == len(path) {
			return true
		}
		if starP < 0 || starS >= len(path) {
			return false
		}
		starS++
		si, pi = starS, starP+1
	}
}
