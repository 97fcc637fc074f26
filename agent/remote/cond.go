package remote

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"time"
)

// ErrPrecondition: a conditional write (UploadIf, DeleteIf, RenameIf,
// RemoveTreeIf, a BatchFile with Expect) found its remote path no longer
// as the caller expected it, so it wrote nothing there. List the path
// again and decide afresh.
var ErrPrecondition = errors.New("remote: path changed on the server since it was listed")

// Expect is what a conditional write requires of a remote path when it
// takes effect: nothing there (Absent), a directory (Dir), or a file of
// Size whose content is SHA256 (when HashKnown) or, failing that, whose
// modify time (at TimePrecision) and unique ID (when set) are the ones
// given.
//
// On a server offering SITE EXPECT (syncserver) the check and the write
// are one step on the server. Elsewhere the check is a stat (MLST, else
// SIZE and MDTM) immediately before the final RNTO or DELE: a change by
// another client between the two still goes unnoticed. There the time is
// compared to the second at best, and the content not at all.
type Expect struct {
	// Any lets the write through whatever is there (for RemoveTreeIf,
	// where a nil Expect means "keep it").
	Any           bool
	Absent        bool
	Dir           bool
	Size          int64
	ModTime       time.Time
	TimePrecision time.Duration
	ID            string
	SHA256        [32]byte
	HashKnown     bool
}

// facts renders e in SITE EXPECT's syntax.
func (e *Expect) facts() string {
	switch {
	case e.Absent:
		return "absent"
	case e.Dir:
		return "type=dir;"
	}
	var b strings.Builder
	b.WriteString("type=file;size=" + strconv.FormatInt(e.Size, 10) + ";")
	if e.HashKnown {
		// The content decides: a touched file is still the one expected.
		b.WriteString("sha256=" + hex.EncodeToString(e.SHA256[:]) + ";")
		return b.String()
	}
	if !e.ModTime.IsZero() && e.TimePrecision <= 0 {
		layout := "20060102150405.000"
		if e.ModTime.Nanosecond() == 0 {
			layout = "20060102150405" // compared to the second
		}
		b.WriteString("modify=" + e.ModTime.UTC().Format(layout) + ";")
	}
	if e.ID != "" {
		b.WriteString("unique=" + e.ID + ";")
	}
	return b.String()
}

// matches reports whether e (from a stat, or ok false for nothing there)
// is what want expects, as far as a server without SITE EXPECT tells.
func (want *Expect) matches(e Entry, ok bool) bool {
	switch {
	case !ok || want.Absent:
		return !ok && want.Absent
	case want.Dir || e.Dir:
		return want.Dir && e.Dir
	case e.Size != want.Size:
		return false
	case want.ID != "" && e.ID != "" && want.ID != e.ID:
		return false
	case want.ModTime.IsZero() || e.ModTime.IsZero():
		return true
	}
	prec := max(want.TimePrecision, time.Second)
	return e.ModTime.UTC().Truncate(prec).Equal(want.ModTime.UTC().Truncate(prec))
}

// expect makes the next change of target on s conditional on want (nil:
// unconditional). Where the server offers SITE EXPECT it is told, and
// checks at the change; elsewhere target is looked at now, and a mismatch
// is ErrPrecondition.
func (p *Pool) expect(s *slot, target string, want *Expect) error {
	if want == nil || want.Any {
		return nil
	}
	if s.ctl.caps.Expect {
		_, _, err := s.ctl.cmd(codeCommandOK, "SITE EXPECT %s %s", want.facts(), target)
		return err
	}
	e, ok, err := p.statIfAny(s, target, want.Dir)
	if err != nil {
		return err
	}
	if !want.matches(e, ok) {
		return fmt.Errorf("%w: %s", ErrPrecondition, target)
	}
	return nil
}

// statIfAny stats name for a precondition check: ok is false when
// nothing is there (a 550 reply).
func (p *Pool) statIfAny(s *slot, name string, dir bool) (Entry, bool, error) {
	if dir && !s.ctl.caps.MLSD {
		if p.isDir(s, name) {
			return Entry{Name: path.Base(name), Dir: true}, true, nil
		}
		dir = false
	}
	e, err := p.stat(s, name)
	switch {
	case err == nil:
		return e, true, nil
	case ReplyCode(err) != 550:
		return Entry{}, false, err
	case !s.ctl.caps.MLSD && p.isDir(s, name):
		// SIZE refuses a directory as it refuses a missing file.
		return Entry{Name: path.Base(name), Dir: true}, true, nil
	}
	return Entry{}, false, nil
}

// preconditionFailed turns the reply of a change made after SITE EXPECT
// into ErrPrecondition when the server says the expectation failed.
func preconditionFailed(err error, target string) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code == codeFileBusy && strings.HasPrefix(te.Msg, "Precondition failed") {
		return fmt.Errorf("%w: %s (%w)", ErrPrecondition, target, err)
	}
	return err
}

// renameIf renames from to to on s, each end held to its expectation
// (nil: none). The rename goes over the session that was told the
// expectations.
func (p *Pool) renameIf(s *slot, from, to string, wantFrom, wantTo *Expect) error {
	if err := p.expect(s, from, wantFrom); err != nil {
		return err
	}
	if err := p.expect(s, to, wantTo); err != nil {
		return err
	}
	return preconditionFailed(s.ctl.rename(from, to), to)
}

// deleteIf deletes the file name on s if it is as want expects.
func (p *Pool) deleteIf(s *slot, name string, want *Expect) error {
	if err := p.expect(s, name, want); err != nil {
		return err
	}
	return preconditionFailed(s.ctl.dele(name), name)
}

// DeleteIf removes one file if it is still as want expects (nil: Delete).
func (p *Pool) DeleteIf(ctx context.Context, file string, want *Expect) error {
	if err := checkPath(file); err != nil {
		return err
	}
	err := p.do(ctx, func(s *slot) error { return p.deleteIf(s, file, want) })
	if err != nil {
		return opError("delete", file, err)
	}
	return nil
}

// RenameIf moves from to to if from is still as wantFrom and to as wantTo
// expect (nil: no requirement), creating to's parents when needed. With
// both nil it is Rename.
func (p *Pool) RenameIf(ctx context.Context, from, to string, wantFrom, wantTo *Expect) error {
	if wantFrom == nil && wantTo == nil {
		return p.Rename(ctx, from, to)
	}
	if err := errors.Join(checkPath(from), checkPath(to)); err != nil {
		return err
	}
	err := p.do(ctx, func(s *slot) error {
		err := p.renameIf(s, from, to, wantFrom, wantTo)
		if err == nil || errors.Is(err, ErrPrecondition) || !parentMayBeMissing(err) {
			return err
		}
		if err := p.mkdirAll(s, path.Dir(to)); err != nil {
			return err
		}
		return p.renameIf(s, from, to, wantFrom, wantTo)
	})
	if err != nil {
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	}
	return nil
}

// RemoveTreeIf removes the directory dir and what is in it, but only the
// files that are still as known expects them: known is asked about each
// file listed (its path and listed entry), and returns nil for a file the
// caller has not seen, which is then kept, as is a file that changed. If
// anything was kept the directory stays and the error is ErrPrecondition;
// what matched is removed all the same.
func (p *Pool) RemoveTreeIf(ctx context.Context, dir string, known func(remotePath string, e Entry) *Expect) error {
	if err := checkPath(dir); err != nil {
		return err
	}
	if path.Clean(dir) == "/" {
		return fmt.Errorf("%w: refusing to remove /", ErrBadPath)
	}
	err := p.do(ctx, func(s *slot) error {
		kept, err := p.removeTreeIf(s, dir, known, 0)
		if err == nil && kept {
			err = fmt.Errorf("%w: %s holds what was not seen", ErrPrecondition, dir)
		}
		return err
	})
	if err != nil {
		return opError("remove dir", dir, err)
	}
	return nil
}

func (p *Pool) removeTreeIf(s *slot, dir string, known func(string, Entry) *Expect, depth int) (kept bool, err error) {
	if depth > maxDepth {
		return false, fmt.Errorf("remove %s: tree deeper than %d", dir, maxDepth)
	}
	entries, err := p.list(s, dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		child := path.Join(dir, e.Name)
		if e.Dir {
			k, err := p.removeTreeIf(s, child, known, depth+1)
			if err != nil {
				return false, err
			}
			kept = kept || k
			continue
		}
		want := known(child, e)
		if want == nil {
			kept = true
			continue
		}
		if err := p.deleteIf(s, child, want); errors.Is(err, ErrPrecondition) {
			kept = true
		} else if err != nil {
			return false, err
		}
	}
	if kept {
		return true, nil
	}
	return false, s.ctl.rmd(dir)
}
