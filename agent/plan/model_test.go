package plan

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"time"
)

// The model: contents are small numbers; content 1 and 2 have the same size
// so that only a hash tells them apart, content 3 has another size.
var contentSize = map[byte]int64{1: 100, 2: 100, 3: 250}

func contentHash(c byte) [32]byte { return sha256.Sum256([]byte{c}) }

// mside is one side of the model: the planner's view plus the truth.
type mside struct {
	exists, dir bool
	content     byte
	mtime       time.Time
	hashKnown   bool
	id          string
}

func (s mside) shape() shape {
	switch {
	case !s.exists:
		return absent
	case s.dir:
		return dir
	}
	return file
}

// equal compares the truth of two sides: shape and content.
func (s mside) equal(o mside) bool {
	return s.shape() == o.shape() && (s.shape() != file || s.content == o.content)
}

func (s mside) String() string {
	switch s.shape() {
	case absent:
		return "absent"
	case dir:
		return "dir"
	}
	return fmt.Sprintf("file(c%d t%d hash=%v id=%q)", s.content, s.mtime.Unix()%1000, s.hashKnown, s.id)
}

// side is what the planner sees. An unknown hash is garbage on purpose, so
// a planner that peeks at it fails the invariants.
func (s mside) side() Side {
	out := Side{Exists: s.exists, Dir: s.dir, ID: s.id}
	if s.exists && !s.dir {
		out.Size = contentSize[s.content]
		out.MTime = s.mtime
		out.HashKnown = s.hashKnown
		out.Hash = contentHash(s.content)
		if !s.hashKnown {
			out.Hash = contentHash(0xEE)
		}
	}
	return out
}

// world is one path: local, remote and the base, plus conflict copies made.
type world struct {
	local, remote mside
	base          Base
	baseContent   byte
	copies        []byte // contents moved aside by conflicts
	clock         int64
	ids           int
}

func (w *world) item() Item {
	return Item{Path: "d/f.txt", Local: w.local.side(), Remote: w.remote.side(), Base: w.base}
}

func (w *world) String() string {
	b := "absent"
	if w.base.Exists && w.base.Dir {
		b = "dir"
	} else if w.base.Exists {
		b = fmt.Sprintf("file(c%d lt%d rt%d id=%q)", w.baseContent, w.base.MTime.Unix()%1000, w.base.RemoteMTime.Unix()%1000, w.base.RemoteID)
	}
	return fmt.Sprintf("local=%v remote=%v base=%v", w.local, w.remote, b)
}

func (w *world) tick() time.Time {
	w.clock++
	return time.Unix(1_700_000_000+w.clock, 0)
}

func (w *world) newID() string {
	w.ids++
	return fmt.Sprintf("id%d", w.ids)
}

// record stores the synced state, as the executor does after an action.
func (w *world) record() {
	switch w.local.shape() {
	case absent:
		w.base, w.baseContent = Base{}, 0
	case dir:
		w.base, w.baseContent = Base{Exists: true, Dir: true}, 0
	default:
		w.base = Base{
			Exists: true, Size: contentSize[w.local.content], MTime: w.local.mtime,
			Hash: contentHash(w.local.content), RemoteSize: contentSize[w.remote.content],
			RemoteMTime: w.remote.mtime, RemoteID: w.remote.id,
		}
		w.baseContent = w.local.content
	}
}

// apply performs a on the model the way the executor would. It returns an
// error when the action makes no sense in this state.
func (w *world) apply(a Action) error {
	switch a.Kind {
	case Nothing:
		return nil
	case Upload:
		if w.local.shape() != file {
			return fmt.Errorf("upload without a local file")
		}
		w.remote = mside{exists: true, content: w.local.content, mtime: w.tick(), id: w.newID()}
	case Download:
		if w.remote.shape() != file {
			return fmt.Errorf("download without a remote file")
		}
		w.local = mside{exists: true, content: w.remote.content, mtime: w.tick(), hashKnown: true}
	case MkdirRemote:
		if w.local.shape() != dir {
			return fmt.Errorf("mkdir remote without a local dir")
		}
		w.remote = mside{exists: true, dir: true}
	case MkdirLocal:
		if w.remote.shape() != dir {
			return fmt.Errorf("mkdir local without a remote dir")
		}
		w.local = mside{exists: true, dir: true}
	case DeleteRemote:
		w.remote = mside{}
	case DeleteLocal:
		w.local = mside{}
	case Conflict:
		if !w.local.exists || !w.remote.exists {
			return fmt.Errorf("conflict with a side absent")
		}
		if w.local.shape() == file {
			w.copies = append(w.copies, w.local.content)
		} else {
			w.copies = append(w.copies, 0)
		}
		if w.remote.dir {
			w.local = mside{exists: true, dir: true}
		} else {
			w.local = mside{exists: true, content: w.remote.content, mtime: w.tick(), hashKnown: true}
		}
	case Compare:
		if w.local.shape() != file || w.remote.shape() != file {
			return fmt.Errorf("compare without two files")
		}
		w.local.hashKnown, w.remote.hashKnown = true, true
		return nil
	case RecordOnly:
		if !w.local.equal(w.remote) {
			return fmt.Errorf("record of different sides")
		}
	case Forget:
		if w.local.exists || w.remote.exists {
			return fmt.Errorf("forget of an existing path")
		}
	default:
		return fmt.Errorf("unexpected %v", a.Kind)
	}
	if !w.local.equal(w.remote) {
		return fmt.Errorf("%v left the sides different: %v", a.Kind, w)
	}
	w.record()
	return nil
}

// genWorld builds a consistent history: a base, then each side either as
// synced, touched, edited, deleted, turned into a directory, or new.
func genWorld(r *rand.Rand) *world {
	w := &world{}
	switch r.IntN(3) {
	case 1:
		w.local = mside{exists: true, dir: true}
	case 2:
		c := byte(1 + r.IntN(3))
		w.local = mside{exists: true, content: c, mtime: w.tick(), hashKnown: true}
	}
	if w.local.exists {
		w.remote = w.local
		if w.remote.shape() == file {
			w.remote.mtime = w.tick()
			w.remote.id = w.newID()
			if r.IntN(4) == 0 {
				w.remote.id = "" // server without the unique fact
			}
		}
		w.record()
	}
	w.local = genSide(r, w, w.local, false)
	w.remote = genSide(r, w, w.remote, true)
	return w
}

func genSide(r *rand.Rand, w *world, s mside, remote bool) mside {
	known := r.IntN(2) == 0
	id := func(old string) string {
		if !remote {
			return ""
		}
		if old != "" && r.IntN(2) == 0 {
			return old // edited in place
		}
		return w.newID()
	}
	switch r.IntN(6) {
	case 0: // as synced
		s.hashKnown = known && s.shape() == file
		return s
	case 1: // touched
		if s.shape() == file {
			s.mtime = w.tick()
			s.hashKnown = known
			if remote && r.IntN(2) == 0 {
				s.id = w.newID()
			}
		}
		return s
	case 2: // deleted
		return mside{}
	case 3: // a directory
		return mside{exists: true, dir: true}
	default: // a file, edited or new; a content change always moves mtime
		c := byte(1 + r.IntN(3))
		return mside{exists: true, content: c, mtime: w.tick(), hashKnown: known, id: id(s.id)}
	}
}

// edited reports whether side s differs in substance from the base.
func (w *world) edited(s mside) bool {
	switch {
	case !w.base.Exists:
		return s.exists
	case w.base.Dir:
		return s.shape() != dir
	}
	return s.shape() != file || s.content != w.baseContent
}
