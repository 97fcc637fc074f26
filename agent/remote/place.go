package remote

import (
	"fmt"
	"path"
	"time"
)

// What is left of an upload once its temporary holds every byte takes two
// round trips, for one file as for a batch of them: check (set the time,
// verify, read the time back) and place (rename, read the facts back).
// The commands of each go in one write (see ctrlSession.send); none of them
// depends on the outcome of one before it in the same write, and nothing
// is renamed before the verification's reply has been read.

// finishing is one upload between its transfer and its rename.
type finishing struct {
	temp, target string
	size         int64     // bytes sent
	sum          [32]byte  // SHA-256 of what was sent
	mtime        time.Time // the local modification time, for MFMT
	want         *Expect   // what target must be when renamed onto; nil: anything

	verified string    // VerifiedHash, VerifiedSize or VerifiedNone
	modTime  time.Time // the server's time of the temporary (MDTM), where asked
	err      error     // why the file is not to be put in place
	entry    Entry     // the file in place, once placed
}

// check sets the modification time of each complete temporary (MFMT,
// where offered), verifies it against what was sent (HASH SHA-256, else
// SIZE) and, on a server without MLST, reads its time back with MDTM (a
// rename keeps it): one round trip for all of fs. Where the server has no
// SITE EXPECT, the same write looks at the target of each file held to a
// want (see Expect), as close to the rename as a client can. A refused
// MFMT is logged and ignored, as the upload is still correct; any other
// refusal, a mismatch or an unmet want is the file's err. The error is the
// connection's.
func (p *Pool) check(s *slot, fs []*finishing) error {
	ctl := s.ctl
	if ctl.canHash() {
		if err := ctl.selectHash(); err != nil {
			return err
		}
	}
	type asked struct {
		mfmt, verify, mdtm int
		target             targetStat
	}
	idx := make([]asked, len(fs))
	var cmds []pipelined
	add := func(line string) int {
		cmds = append(cmds, pipelined{line, codeFileStatus})
		return len(cmds) - 1
	}
	for i, f := range fs {
		a := asked{-1, -1, -1, targetStat{-1, -1, -1}}
		if ctl.caps.MFMT {
			a.mfmt = add(mfmtLine(f.temp, f.mtime))
		}
		switch {
		case ctl.canHash():
			a.verify, f.verified = add("HASH "+f.temp), VerifiedHash
		case ctl.caps.SIZE:
			a.verify, f.verified = add("SIZE "+f.temp), VerifiedSize
		default:
			f.verified = VerifiedNone
		}
		if !ctl.caps.MLSD && ctl.caps.MDTM {
			a.mdtm = add("MDTM " + f.temp)
		}
		if f.want != nil && !ctl.caps.Expect {
			a.target, cmds = statCmds(ctl, f.target, cmds)
		}
		idx[i] = a
	}
	if len(cmds) == 0 {
		return nil
	}
	replies, err := ctl.send(cmds...)
	if replies == nil {
		return err // the connection is out of step
	}
	for i, f := range fs {
		a := idx[i]
		if a.mfmt >= 0 {
			if err := replies[a.mfmt].err; err != nil && !permanentReply(err) {
				f.err = err
				continue
			} else if err != nil {
				p.log.Warn("cannot set remote modification time", "path", f.target, "err", err)
			}
		}
		if a.verify >= 0 {
			if f.err = verifyReply(f, replies[a.verify]); f.err != nil {
				continue
			}
		}
		if a.mdtm >= 0 {
			r := replies[a.mdtm]
			if f.err = r.err; f.err == nil {
				f.modTime, f.err = parseMDTM(r.msg)
			}
		}
		if f.err == nil && a.target.first >= 0 {
			e, ok, err := a.target.entry(ctl, f.target, replies)
			switch {
			case err != nil:
				f.err = err
			case !f.want.matches(e, ok):
				f.err = fmt.Errorf("%w: %s", ErrPrecondition, f.target)
			}
		}
	}
	return nil
}

// targetStat is where the replies that describe a target are in a send:
// MLST, or SIZE, MDTM (where offered) and CWD (-1: not asked).
type targetStat struct{ first, mdtm, cwd int }

// statCmds appends to cmds the queries that tell what is at name, as
// statIfAny would ask them one by one.
func statCmds(ctl *ctrlSession, name string, cmds []pipelined) (targetStat, []pipelined) {
	t := targetStat{len(cmds), -1, -1}
	if ctl.caps.MLSD {
		return t, append(cmds, pipelined{"MLST " + name, codeFileActionOK})
	}
	cmds = append(cmds, pipelined{"SIZE " + name, codeFileStatus})
	if ctl.caps.MDTM {
		t.mdtm = len(cmds)
		cmds = append(cmds, pipelined{"MDTM " + name, codeFileStatus})
	}
	t.cwd = len(cmds)
	return t, append(cmds, pipelined{"CWD " + name, codeFileActionOK})
}

// entry reads what statCmds asked: ok is false when nothing is at name
// (550 to MLST, or to SIZE and CWD).
func (t targetStat) entry(ctl *ctrlSession, name string, replies []reply) (Entry, bool, error) {
	r := replies[t.first]
	switch {
	case r.err == nil && ctl.caps.MLSD:
		e, err := parseMLST(name, r.msg)
		return e, err == nil, err
	case r.err == nil:
		e := Entry{Name: path.Base(name)}
		var err error
		if e.Size, err = parseSize(r.msg); err == nil && t.mdtm >= 0 {
			if err = replies[t.mdtm].err; err == nil {
				e.ModTime, err = parseMDTM(replies[t.mdtm].msg)
			}
		}
		return e, err == nil, err
	case ReplyCode(r.err) != 550:
		return Entry{}, false, r.err
	case t.cwd >= 0 && replies[t.cwd].err == nil:
		// SIZE refuses a directory as it refuses a missing file.
		return Entry{Name: path.Base(name), Dir: true}, true, nil
	}
	return Entry{}, false, nil
}

// verifyReply compares the reply to f's HASH or SIZE with what was sent.
func verifyReply(f *finishing, r reply) error {
	if r.err != nil {
		return r.err
	}
	if f.verified == VerifiedHash {
		got, err := parseHash(f.temp, r.msg)
		if err != nil {
			return err
		}
		if got != f.sum {
			return fmt.Errorf("%w: server hash %x, sent %x", ErrVerify, got, f.sum)
		}
		return nil
	}
	n, err := parseSize(r.msg)
	if err != nil {
		return err
	}
	if n != f.size {
		return fmt.Errorf("%w: server size %d, sent %d", ErrVerify, n, f.size)
	}
	return nil
}

// place renames each temporary of fs that check passed (err nil) onto its
// target and sets its entry: with MLST, the facts the server gives after
// the rename, asked in the same round trip; else the size sent (verified,
// or all the server would say) and the time check read back. A server
// that refuses to rename over an existing file gets it deleted first (see
// renameOver), at the cost of more round trips. A rename refused is the
// file's err. The error is the connection's.
func (p *Pool) place(s *slot, fs []*finishing) error {
	var rest []*finishing
	for _, f := range fs {
		if f.err != nil || f.want == nil || !s.ctl.caps.Expect {
			rest = append(rest, f)
			continue
		}
		// The server checks the want at the RNTO that follows its SITE
		// EXPECT, which must have been accepted first.
		if f.err = p.expect(s, f.target, f.want); f.err != nil {
			if leavesConnBroken(f.err) {
				return f.err
			}
			continue
		}
		if err := p.placeAll(s, []*finishing{f}); err != nil {
			return err
		}
	}
	return p.placeAll(s, rest)
}

// placeAll is place for files whose RNTOs may go in one write.
func (p *Pool) placeAll(s *slot, fs []*finishing) error {
	ctl := s.ctl
	first := make([]int, len(fs))
	var cmds []pipelined
	for i, f := range fs {
		first[i] = -1
		if f.err != nil {
			continue
		}
		first[i] = len(cmds)
		cmds = append(cmds, renameCmds(f.temp, f.target)...)
		if ctl.caps.MLSD {
			cmds = append(cmds, pipelined{"MLST " + f.target, codeFileActionOK})
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	replies, err := ctl.send(cmds...)
	if replies == nil {
		return err
	}
	for i, f := range fs {
		k := first[i]
		if k < 0 {
			continue
		}
		rnfr, rnto := replies[k].err, preconditionFailed(replies[k+1].err, f.target)
		switch {
		case rnfr != nil:
			f.err = rnfr
		case rnto != nil && !permanentReply(rnto):
			f.err = rnto
		case rnto != nil:
			if f.err = p.renameOver(s, f.temp, f.target, rnto); f.err == nil && ctl.caps.MLSD {
				f.entry, f.err = ctl.mlst(f.target)
			} else if f.err == nil {
				f.entry = f.entryWithoutMLST()
			}
		case ctl.caps.MLSD:
			if f.err = replies[k+2].err; f.err == nil {
				f.entry, f.err = parseMLST(f.target, replies[k+2].msg)
			}
		default:
			f.entry = f.entryWithoutMLST()
		}
		if f.err != nil && leavesConnBroken(f.err) {
			return f.err
		}
	}
	return nil
}

// entryWithoutMLST is the Entry of f's file on a server without MLST: what
// check learnt is all there is to know.
func (f *finishing) entryWithoutMLST() Entry {
	return Entry{Name: path.Base(f.target), Size: f.size, ModTime: f.modTime}
}

// firstErr returns the first of errs that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// renameOver handles a server that refused (with err) to rename temp over
// target: if target exists, it is deleted and the rename tried again (not
// atomic, but the only way there). Otherwise err stands.
func (p *Pool) renameOver(s *slot, temp, target string, err error) error {
	if _, serr := s.ctl.size(target); serr != nil {
		return err
	}
	if derr := s.ctl.dele(target); derr != nil {
		return err
	}
	return s.ctl.rename(temp, target)
}
