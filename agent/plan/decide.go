package plan

import "time"

// shape is what a path is on one side.
type shape uint8

const (
	absent shape = iota
	dir
	file
)

func sideShape(s Side) shape {
	switch {
	case !s.Exists:
		return absent
	case s.Dir:
		return dir
	}
	return file
}

func baseShape(b Base) shape {
	switch {
	case !b.Exists:
		return absent
	case b.Dir:
		return dir
	}
	return file
}

// status is how one side compares with the base.
type status uint8

const (
	same    status = iota // as last synced
	touched               // metadata moved, content provably the same
	changed               // anything else, including "cannot tell"
)

var zeroHash [32]byte

// localStatus compares the local side with the base.
func localStatus(l Side, b Base) status {
	if sideShape(l) != baseShape(b) {
		return changed
	}
	if sideShape(l) != file {
		return same
	}
	return fileStatus(l, b.Size, b.MTime, b.Hash, "")
}

// remoteStatus compares the remote side with the base.
func remoteStatus(r Side, b Base) status {
	if sideShape(r) != baseShape(b) {
		return changed
	}
	if sideShape(r) != file {
		return same
	}
	return fileStatus(r, b.RemoteSize, b.RemoteMTime, b.Hash, b.RemoteID)
}

// fileStatus compares a file with the base's facts for its side. Size and
// mtime (and the remote ID) are cheap change detectors; a known hash
// overrules them, so a file whose mtime moved but whose content did not is
// only touched.
func fileStatus(s Side, size int64, mtime time.Time, baseHash [32]byte, baseID string) status {
	if s.Size != size {
		return changed
	}
	hashKnown := s.HashKnown && baseHash != zeroHash
	if hashKnown && s.Hash != baseHash {
		return changed
	}
	moved := !s.MTime.Equal(mtime) || (s.ID != "" && baseID != "" && s.ID != baseID)
	switch {
	case !moved:
		return same
	case hashKnown:
		return touched
	}
	return changed
}

// sameContent reports whether both sides provably hold the same thing: both
// absent, both directories, or files of one size with equal known hashes.
func sameContent(l, r Side) bool {
	ls, rs := sideShape(l), sideShape(r)
	if ls != rs {
		return false
	}
	if ls != file {
		return true
	}
	return l.Size == r.Size && l.HashKnown && r.HashKnown && l.Hash == r.Hash
}

// Decide returns the one action that brings the path of it in sync under
// mode. It is a pure function.
//
// In Push the remote follows the local side whatever happened remotely; in
// Pull the reverse. In TwoWay the side that changed since the base wins;
// when both changed, a delete loses to an edit, equal content is only
// recorded, and different content is a Conflict.
func Decide(mode Mode, it Item) Action {
	a := decide(mode, it)
	a.Path = it.Path
	return a
}

func decide(mode Mode, it Item) Action {
	l, r, b := it.Local, it.Remote, it.Base
	ls, rs := localStatus(l, b), remoteStatus(r, b)
	if mode != Push && mode != Pull && mode != TwoWay {
		return Action{Kind: Nothing, Reason: "unknown mode"}
	}

	if sameContent(l, r) {
		switch {
		case !l.Exists && b.Exists:
			return Action{Kind: Forget, Reason: "gone on both sides"}
		case !l.Exists:
			return Action{Kind: Nothing, Reason: "absent"}
		case ls == same && rs == same:
			return Action{Kind: Nothing, Reason: "in sync"}
		}
		return Action{Kind: RecordOnly, Reason: "same content on both sides"}
	}
	// Neither side changed in content: at most the base needs refreshing.
	// Both sides then hold the base's content, so they agree.
	if ls != changed && rs != changed {
		if ls == same && rs == same {
			return Action{Kind: Nothing, Reason: "in sync"}
		}
		return Action{Kind: RecordOnly, Reason: "only times changed"}
	}

	switch mode {
	case Push:
		return toRemote(l, mirrorReason(ls, "changed locally"))
	case Pull:
		return toLocal(r, mirrorReason(rs, "changed remotely"))
	}

	switch {
	case ls == changed && rs != changed:
		return toRemote(l, "changed locally")
	case rs == changed && ls != changed:
		return toLocal(r, "changed remotely")
	case !l.Exists:
		return toLocal(r, "deleted locally, changed remotely: the edit wins")
	case !r.Exists:
		return toRemote(l, "deleted remotely, changed locally: the edit wins")
	case !l.Dir && !r.Dir && l.Size == r.Size && !(l.HashKnown && r.HashKnown):
		return Action{Kind: Compare, Reason: "changed on both sides, same size, hash unknown"}
	case !b.Exists:
		return Action{Kind: Conflict, Reason: "different on both sides, never synced"}
	}
	return Action{Kind: Conflict, Reason: "changed on both sides"}
}

// mirrorReason explains a Push or Pull action: either the source side
// changed, or the mirror drifted and is put back.
func mirrorReason(src status, changedMsg string) string {
	if src == changed {
		return changedMsg
	}
	return "mirror drifted: restore it"
}

// toRemote makes the remote side what the local side is.
func toRemote(l Side, reason string) Action {
	switch sideShape(l) {
	case absent:
		return Action{Kind: DeleteRemote, Reason: reason}
	case dir:
		return Action{Kind: MkdirRemote, Reason: reason}
	}
	return Action{Kind: Upload, Reason: reason}
}

// toLocal makes the local side what the remote side is.
func toLocal(r Side, reason string) Action {
	switch sideShape(r) {
	case absent:
		return Action{Kind: DeleteLocal, Reason: reason}
	case dir:
		return Action{Kind: MkdirLocal, Reason: reason}
	}
	return Action{Kind: Download, Reason: reason}
}
