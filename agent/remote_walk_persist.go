package agent

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"iter"
	"log/slog"
	"slices"
	"strings"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/syncstate"
)

// relistSubdirs is the number of subdirectories from which a directory
// whose listing stands is listed afresh anyway: the fresh listing tells
// every child's modify fact in one MLSD, where re-using it costs an MLST
// per child.
const relistSubdirs = 2

// subdirs counts the directories among entries.
func subdirs(entries []remote.Entry) int {
	n := 0
	for _, e := range entries {
		if e.Dir {
			n++
		}
	}
	return n
}

// listingDigest sums up what a listing says: every entry by name, kind,
// and for a file its size, modify fact and unique ID. A directory's own
// facts are left out: its children are checked through its own listing.
// The agent's temporaries count too, though the synced state never holds
// them: a listing rebuilt from the state for a directory that held one
// does not match, so that directory is listed again on the next start
// and the pass sees (and, once stale, removes) the temporary.
func listingDigest(entries []remote.Entry) [16]byte {
	var d digester
	return d.digest(entries)
}

// digester computes listingDigest re-using its memory from one call to
// the next: a walk that checks 5,000 rebuilt listings makes 2 MB less
// garbage with one. It is not safe for concurrent use.
type digester struct {
	idx []int
	buf []byte
	h   hash.Hash
	sum []byte
}

func (dg *digester) digest(entries []remote.Entry) [16]byte {
	idx := dg.idx[:0]
	for i := range entries {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(entries[a].Name, entries[b].Name) })
	if dg.h == nil {
		dg.h = sha256.New()
	}
	h := dg.h
	h.Reset()
	buf := dg.buf
	for _, i := range idx {
		e := entries[i]
		buf = binary.AppendUvarint(buf[:0], uint64(len(e.Name)))
		buf = append(buf, e.Name...)
		if e.Dir {
			buf = append(buf, 'd')
		} else {
			buf = append(buf, 'f')
			buf = binary.AppendVarint(buf, e.Size)
			buf = binary.AppendVarint(buf, e.ModTime.UnixNano())
			buf = binary.AppendUvarint(buf, uint64(len(e.ID)))
			buf = append(buf, e.ID...)
		}
		h.Write(buf)
	}
	dg.idx, dg.buf = idx, buf
	dg.sum = h.Sum(dg.sum[:0])
	var d [16]byte
	copy(d[:], dg.sum)
	return d
}

// load reads the remembered listings' facts once, on the first walk.
// Their entries come later, from the synced state (entriesOf).
func (c *walkCache) load() {
	if c.loaded || c.db == nil {
		return
	}
	c.loaded = true
	recs, err := c.db.Walks(c.folder)
	if err != nil {
		c.logger().Warn("remembered remote listings unreadable; listing everything", "err", err)
		return
	}
	c.saved = recs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs == nil {
		c.dirs = make(map[string]*dirListing, len(recs))
	}
	for rel, r := range recs {
		if _, ok := c.dirs[rel]; !ok {
			c.dirs[rel] = &dirListing{modify: r.Modify, listedAt: r.ListedAt, firstSeen: r.FirstSeen, digest: r.Digest}
		}
	}
}

// seedFromBase turns the synced state into the result of a walk that
// found nothing changed since, for a walk without a previous result: the
// directories whose remembered listing stands keep these entries when
// they have that listing's digest. Keys and IDs share base's strings.
func seedFromBase(base map[string]syncstate.Entry) map[string]remoteFacts {
	out := make(map[string]remoteFacts, len(base))
	for p, b := range base {
		e := remote.Entry{Dir: b.Dir}
		if !b.Dir {
			e.Size, e.ModTime, e.ID = b.RemoteSize, b.RemoteMTime, b.RemoteID
		}
		out[p] = factsOf(e)
	}
	return out
}

// childIndex holds the paths of a walk's result (and its extras) by
// parent directory, in one slice: directory d's are paths[at[d][0]:at[d][1]].
// One flat slice rather than one per directory keeps the index of a
// 100,000-entry tree at 1.6 MB, without the garbage of growing 5,000
// slices.
type childIndex struct {
	paths []string
	at    map[string][2]int
}

// indexChildren indexes the paths of keys, each a map's keys: the
// maps must not change while it runs, as it goes over them twice.
func indexChildren(keys ...iter.Seq[string]) childIndex {
	count := make(map[string]int)
	n := 0
	for _, ks := range keys {
		for k := range ks {
			count[parentOf(k)]++
			n++
		}
	}
	x := childIndex{paths: make([]string, n), at: make(map[string][2]int, len(count))}
	off := 0
	for d, c := range count {
		x.at[d] = [2]int{off, off}
		off += c
	}
	for _, ks := range keys { // unchanged since counted: the same keys
		for k := range ks {
			d := parentOf(k)
			r := x.at[d]
			x.paths[r[1]] = k
			r[1]++
			x.at[d] = r
		}
	}
	return x
}

// of returns the paths whose parent is dir.
func (x childIndex) of(dir string) []string {
	r := x.at[dir]
	return x.paths[r[0]:r[1]]
}

// save writes the listings' facts when they differ from what the state
// file holds in a way that matters on the next start: another directory,
// modify value or digest, or a listing that became trusted.
func (c *walkCache) save() {
	if c.db == nil {
		return
	}
	c.mu.Lock()
	record := func(rel string, d *dirListing) syncstate.WalkRecord {
		return syncstate.WalkRecord{Dir: rel, Modify: d.modify, FirstSeen: d.firstSeen, ListedAt: d.listedAt, Digest: d.digest}
	}
	same := len(c.dirs) == len(c.saved)
	for rel, d := range c.dirs {
		if !same {
			break
		}
		o, ok := c.saved[rel]
		same = ok && sameWalk(o, record(rel, d))
	}
	if same { // the usual case: no second map of every directory
		c.mu.Unlock()
		return
	}
	recs := make(map[string]syncstate.WalkRecord, len(c.dirs))
	for rel, d := range c.dirs {
		recs[rel] = record(rel, d)
	}
	c.mu.Unlock()
	if err := c.db.SetWalks(c.folder, recs); err != nil {
		c.logger().Warn("remember remote listings", "err", err)
		return
	}
	c.saved = recs
}

// sameWalk reports whether two records lead to the same decision on the
// next start.
func sameWalk(a, b syncstate.WalkRecord) bool {
	settled := func(r syncstate.WalkRecord) bool { return r.ListedAt.Sub(r.FirstSeen) >= listingSettle }
	return a.Modify.Equal(b.Modify) && a.Digest == b.Digest && settled(a) == settled(b)
}

func (c *walkCache) logger() *slog.Logger {
	if c.log == nil {
		return slog.Default()
	}
	return c.log
}

// compact returns e, and rel (its path), with strings that do not hold on
// to the listing's text: a parsed entry's name and facts are slices of its
// whole MLSD line, which a 100,000-entry tree would otherwise keep alive
// (or, from remote.Pool.Tree, views of a buffer it re-uses). A path the
// synced state holds takes base's copy, so the two maps share it, and so
// does a unique ID equal to the synced one; the name becomes the tail of
// rel. The perm fact is dropped: package remote reads it, the agent never
// does.
func compact(e remote.Entry, rel string, base map[string]syncstate.Entry) (string, remote.Entry) {
	b, ok := base[rel]
	if ok {
		rel = b.Path
	} else {
		rel = strings.Clone(rel)
	}
	if ok && e.ID == b.RemoteID {
		e.ID = b.RemoteID
	} else {
		e.ID = strings.Clone(e.ID)
	}
	e.Name = tailOf(rel, e.Name)
	e.Perm = ""
	return rel, e
}

// tailOf returns name as the tail of rel when rel ends with it, else a
// copy of name.
func tailOf(rel, name string) string {
	if strings.HasSuffix(rel, name) {
		return rel[len(rel)-len(name):]
	}
	return strings.Clone(name)
}
