package agent

import (
	"strings"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
)

// Conditional remote writes: every write the agent makes on the server
// (an upload's rename into place, a delete, a rename) states what the plan
// saw at its target, and takes effect only if that is still there (see
// remote.Expect). When it is not, the write fails with
// remote.ErrPrecondition, the next pass lists the remote afresh
// (f.relist) and plans the path again, now as changed on both sides: a
// conflict copy where the contents differ, never an overwrite of an edit
// the agent has not seen.

// expectSide is what a conditional write requires of the remote path rel,
// which the plan saw as s.
func (f *folder) expectSide(rel string, s plan.Side) *remote.Expect {
	switch {
	case !s.Exists:
		return &remote.Expect{Absent: true}
	case s.Dir:
		return &remote.Expect{Dir: true}
	}
	e := &remote.Expect{Size: s.Size, ModTime: s.MTime, ID: s.ID, SHA256: s.Hash, HashKnown: s.HashKnown}
	f.mu.Lock()
	r, ok := f.remote[rel]
	f.mu.Unlock()
	if ok && s.MTime.Equal(r.modTime()) {
		// The listed time, as finely as the listing gave it (else item
		// put the base's exact time in its place).
		e.TimePrecision = r.prec.duration()
	}
	return e
}

// expectKnown is what a conditional delete inside a directory the plan
// deletes requires of the remote file at remotePath (listed as e): what
// the last listing showed of it, or nil (keep it) for a file the agent
// never saw. What the agent does not sync goes whatever it is, as it
// always did with the folder: ignored paths and stale temporaries (not a
// younger one, which may be another agent's upload in flight).
func (f *folder) expectKnown(remotePath string, e remote.Entry) *remote.Expect {
	rel, ok := strings.CutPrefix(remotePath, strings.TrimSuffix(f.rroot, "/")+"/")
	if !ok {
		return nil
	}
	if strings.HasPrefix(e.Name, remote.TempPrefix) {
		if !e.ModTime.IsZero() && f.now().Sub(e.ModTime) > f.staleTempAge() {
			return &remote.Expect{Any: true}
		}
		return nil
	}
	if f.ig.Match(rel, false) {
		return &remote.Expect{Any: true}
	}
	f.mu.Lock()
	r, seen := f.remote[rel]
	b, hasBase := f.base[rel]
	f.mu.Unlock()
	if !seen || r.Dir {
		return nil
	}
	s := plan.Side{Exists: true, Size: r.Size, MTime: r.modTime(), ID: r.ID}
	if hasBase && !b.Dir && b.RemoteSize == r.Size && remote.SameTime(b.RemoteMTime, s.MTime, r.prec.duration()) &&
		(b.RemoteID == "" || r.ID == "" || b.RemoteID == r.ID) && b.Hash != ([32]byte{}) {
		s.MTime, s.Hash, s.HashKnown = b.RemoteMTime, b.Hash, true
	}
	return f.expectSide(rel, s)
}
