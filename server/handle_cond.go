package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/syncagent/syncagent/server/ftpfs"
)

// SITE EXPECT: conditional changes, so that a client never overwrites,
// deletes or renames what it has not seen.
//
//	SITE EXPECT <facts> <path>
//
// notes a precondition on path for the next command that changes the
// tree: STOR, APPE (checked when the upload is put in place), DELE, RMD
// and RNTO (which checks the expectations on its RNFR source and on its
// target). That command takes effect only if, at the moment it does, the
// path is as expected; the check and the change are one step for every
// writer of this server. Otherwise nothing changes and the reply is
//
//	450 Precondition failed: <path> is not as expected; nothing was changed.
//
// Expectations accumulate (one per path, the last wins) until the next
// command that changes the tree, which drops them all whether it
// succeeded or not; RNFR keeps them for its RNTO.
//
// facts is "absent" (nothing may be at the path) or RFC 3659 facts in the
// MLST form, "name=value;" repeated, all of which must hold:
//
//	type=file|dir   size=<bytes>   unique=<as MLST gives it>
//	modify=YYYYMMDDHHMMSS[.sss]    compared at the precision given
//	sha256=<64 hex digits>         the content (a regular file)
//
// so a client can send back the facts an MLST or MLSD line gave it (perm,
// which is about the login rather than the file, is accepted and not
// checked; any other fact is refused with 501, never ignored). A
// SITE BATCH record carries the same facts as an optional fifth header
// field (see handle_batch.go).

// maxExpects bounds the expectations one session keeps at once.
const maxExpects = 64

// handleExpect is SITE EXPECT.
func (s *session) handleExpect(arg string) {
	facts, name, ok := strings.Cut(strings.TrimLeft(arg, " "), " ")
	if !ok || name == "" {
		s.reply(codeParamSyntax, "SITE EXPECT needs facts and a path.")
		return
	}
	want, err := parseExpect(facts)
	if err != nil {
		s.reply(codeParamSyntax, "SITE EXPECT: "+err.Error()+".")
		return
	}
	p, ok := s.resolve(name)
	if !ok {
		return
	}
	if _, dup := s.expects[p]; !dup && len(s.expects) >= maxExpects {
		s.reply(codeParamSyntax, fmt.Sprintf("SITE EXPECT: at most %d paths at once.", maxExpects))
		return
	}
	if s.expects == nil {
		s.expects = make(map[string]*ftpfs.Expect)
	}
	s.expects[p] = want
	s.reply(codeOK, "Expectation noted for the next change.")
}

// expectFor returns the pending expectation on the virtual path p, or nil.
func (s *session) expectFor(p string) *ftpfs.Expect { return s.expects[p] }

// consumesExpects reports whether verb ends the life of the pending
// expectations (see SITE EXPECT).
func consumesExpects(verb string) bool {
	switch verb {
	case "STOR", "APPE", "STOU", "DELE", "RMD", "XRMD", "RNTO":
		return true
	}
	return false
}

// errBadFacts is a malformed SITE EXPECT facts argument.
var errBadFacts = errors.New("bad facts")

// parseExpect parses the facts of SITE EXPECT (or of a SITE BATCH record).
func parseExpect(facts string) (*ftpfs.Expect, error) {
	if strings.EqualFold(facts, "absent") {
		return &ftpfs.Expect{Absent: true}, nil
	}
	var m factMatch
	m.size = -1
	n := 0
	for _, f := range strings.Split(facts, ";") {
		if f == "" {
			continue
		}
		name, value, ok := strings.Cut(f, "=")
		if !ok || value == "" {
			return nil, fmt.Errorf("%w: %q", errBadFacts, f)
		}
		var err error
		switch strings.ToLower(name) {
		case "type":
			m.typ = strings.ToLower(value)
			if m.typ != "file" && m.typ != "dir" {
				err = errBadFacts
			}
		case "size":
			m.size, err = strconv.ParseInt(value, 10, 64)
			if m.size < 0 {
				err = errBadFacts
			}
		case "modify":
			m.modify, err = parseFTPTime(value)
			m.prec = time.Second
			if i := strings.IndexByte(value, '.'); i >= 0 {
				for range len(value) - i - 1 {
					m.prec /= 10
				}
			}
		case "unique":
			m.unique = value
		case "perm":
			// About this login's rights, not the file: MLST gives it,
			// so a client may send it back; nothing to check.
		case "sha256":
			var b []byte
			b, err = hex.DecodeString(value)
			if len(b) != sha256.Size {
				err = errBadFacts
			}
			m.sum = new([sha256.Size]byte)
			copy(m.sum[:], b)
		default:
			return nil, fmt.Errorf("%w: unknown fact %q", errBadFacts, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %q", errBadFacts, f)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: none given", errBadFacts)
	}
	return &ftpfs.Expect{Match: m.match, SHA256: m.sum}, nil
}

// factMatch is the parsed facts of an expectation other than the content.
type factMatch struct {
	typ    string
	size   int64 // -1: any
	modify time.Time
	prec   time.Duration
	unique string
	sum    *[sha256.Size]byte
}

// match reports whether fi has every fact of m.
func (m *factMatch) match(fi fs.FileInfo) bool {
	switch {
	case m.typ == "dir" && !fi.IsDir(), m.typ == "file" && !fi.Mode().IsRegular():
		return false
	case m.size >= 0 && fi.Size() != m.size:
		return false
	case !m.modify.IsZero() && !fi.ModTime().UTC().Truncate(m.prec).Equal(m.modify):
		return false
	case m.unique != "" && uniqueID(fi) != m.unique:
		return false
	}
	return true
}
