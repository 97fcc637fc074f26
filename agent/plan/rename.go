package plan

import (
	"sort"
	"strings"
)

// renameView looks at items from the side whose renames are being detected
// (the source) and the side they are replayed on (the target).
type renameView struct {
	kind Kind // RenameRemote or RenameLocal
	src  func(Item) Side
	dst  func(Item) Side
	// dstSame reports whether the target side is as last synced.
	dstSame func(Item) bool
	// sameFile reports whether the new file fresh holds what the vanished
	// file gone had when last synced.
	sameFile func(gone, fresh Item) bool
	// goneSize is the size a vanished file had on the source side.
	goneSize func(Item) int64
}

var localRenames = renameView{
	kind:    RenameRemote,
	src:     func(it Item) Side { return it.Local },
	dst:     func(it Item) Side { return it.Remote },
	dstSame: func(it Item) bool { return remoteStatus(it.Remote, it.Base) == same },
	sameFile: func(gone, fresh Item) bool {
		l := fresh.Local
		return l.HashKnown && gone.Base.Hash != zeroHash && l.Hash == gone.Base.Hash && l.Size == gone.Base.Size
	},
	goneSize: func(it Item) int64 { return it.Base.Size },
}

var remoteRenames = renameView{
	kind:    RenameLocal,
	src:     func(it Item) Side { return it.Remote },
	dst:     func(it Item) Side { return it.Local },
	dstSame: func(it Item) bool { return localStatus(it.Local, it.Base) == same },
	sameFile: func(gone, fresh Item) bool {
		r, b := fresh.Remote, gone.Base
		if r.Size != b.RemoteSize {
			return false
		}
		// A server's unique fact survives a rename, as does the mtime.
		if r.ID != "" && r.ID == b.RemoteID && r.MTime.Equal(b.RemoteMTime) {
			return true
		}
		return r.HashKnown && b.Hash != zeroHash && r.Hash == b.Hash
	},
	goneSize: func(it Item) int64 { return it.Base.RemoteSize },
}

// gone: synced before, vanished from the source, untouched on the target.
func (v renameView) gone(it Item) bool {
	return it.Base.Exists && !v.src(it).Exists && v.dstSame(it)
}

// fresh: new on the source, absent on the target, never synced.
func (v renameView) fresh(it Item) bool {
	return !it.Base.Exists && v.src(it).Exists && !v.dst(it).Exists
}

// DetectRenames pairs paths that vanished from the source side with new
// paths holding the same content, and returns the renames to replay on the
// other side, with the items they do not cover. The source is the local side
// in Push, the remote side in Pull, and both (local first) in TwoWay.
//
// A file pairs when its old path is untouched on the target side and the new
// content equals the old path's base (same size and hash; for remote renames
// also same unique ID and mtime). A directory pairs when everything below
// the old path vanished, everything below the new one is new, and the two
// trees hold the same relative paths with the same file contents. Ambiguous
// pairings (duplicate files) are resolved in path order; any pairing of
// identical content is correct. Names are compared exactly, so case-only
// renames pair like any other.
func DetectRenames(mode Mode, items []Item) (renames []Action, rest []Item) {
	d := newDetector(items)
	if mode == Push || mode == TwoWay {
		renames = append(renames, d.run(localRenames)...)
	}
	if mode == Pull || mode == TwoWay {
		renames = append(renames, d.run(remoteRenames)...)
	}
	rest = make([]Item, 0, len(items)) // Items are large: growing the slice was a fifth of a rescan's CPU
	for _, it := range items {
		if !d.used[it.Path] {
			rest = append(rest, it)
		}
	}
	return renames, rest
}

// detector holds items sorted by path so a subtree is one contiguous run.
type detector struct {
	sorted []Item
	byPath map[string]int // index into sorted
	used   map[string]bool
}

func newDetector(items []Item) *detector {
	d := &detector{
		sorted: append([]Item(nil), items...),
		byPath: make(map[string]int, len(items)),
		used:   make(map[string]bool),
	}
	sort.Slice(d.sorted, func(i, j int) bool { return d.sorted[i].Path < d.sorted[j].Path })
	for i, it := range d.sorted {
		d.byPath[it.Path] = i
	}
	return d
}

// subtree returns the items strictly below p.
func (d *detector) subtree(p string) []Item {
	prefix := p + "/"
	lo := sort.Search(len(d.sorted), func(i int) bool { return d.sorted[i].Path >= prefix })
	hi := lo
	for hi < len(d.sorted) && strings.HasPrefix(d.sorted[hi].Path, prefix) {
		hi++
	}
	return d.sorted[lo:hi]
}

// targetParentsOK reports whether no ancestor of p is a file on the target
// side, where the renamed path could not be placed.
func (d *detector) targetParentsOK(v renameView, p string) bool {
	for a := parentPath(p); a != ""; a = parentPath(a) {
		if i, ok := d.byPath[a]; ok {
			if s := v.dst(d.sorted[i]); s.Exists && !s.Dir {
				return false
			}
		}
	}
	return true
}

func (d *detector) run(v renameView) []Action {
	var out []Action
	out = append(out, d.dirs(v)...)
	out = append(out, d.files(v)...)
	return out
}

// files pairs single files.
func (d *detector) files(v renameView) []Action {
	fresh := make(map[int64][]Item) // by size, a cheap first filter
	for _, it := range d.sorted {
		if !d.used[it.Path] && v.fresh(it) && !v.src(it).Dir && d.targetParentsOK(v, it.Path) {
			fresh[v.src(it).Size] = append(fresh[v.src(it).Size], it)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	var out []Action
	for _, g := range d.sorted {
		if d.used[g.Path] || !v.gone(g) || g.Base.Dir {
			continue
		}
		for _, f := range fresh[v.goneSize(g)] {
			if !d.used[f.Path] && v.sameFile(g, f) {
				d.used[g.Path], d.used[f.Path] = true, true
				out = append(out, Action{Kind: v.kind, Path: g.Path, To: f.Path, Reason: "renamed"})
				break
			}
		}
	}
	return out
}

// dirs pairs whole directory trees, outermost first.
func (d *detector) dirs(v renameView) []Action {
	bySig := make(map[string][]Item)
	for _, it := range d.sorted {
		if d.used[it.Path] || !v.fresh(it) || !v.src(it).Dir || !d.targetParentsOK(v, it.Path) {
			continue
		}
		if sig, ok := d.signature(it.Path, v.fresh, v.src); ok {
			bySig[sig] = append(bySig[sig], it)
		}
	}
	if len(bySig) == 0 {
		return nil
	}
	var out []Action
	for _, g := range d.sorted {
		if d.used[g.Path] || !v.gone(g) || !g.Base.Dir {
			continue
		}
		sig, ok := d.signature(g.Path, v.gone, func(it Item) Side {
			return Side{Exists: it.Base.Exists, Dir: it.Base.Dir}
		})
		if !ok {
			continue
		}
		for _, f := range bySig[sig] {
			if d.used[f.Path] || !d.sameTree(v, g.Path, f.Path) {
				continue
			}
			d.used[g.Path], d.used[f.Path] = true, true
			for _, it := range d.subtree(g.Path) {
				d.used[it.Path] = true
			}
			for _, it := range d.subtree(f.Path) {
				d.used[it.Path] = true
			}
			out = append(out, Action{Kind: v.kind, Path: g.Path, To: f.Path, Reason: "directory renamed"})
			break
		}
	}
	return out
}

// signature lists the relative paths below p (directories marked with a
// trailing slash) if every one of them satisfies want and at least one is a
// file; shape reports what each one is.
func (d *detector) signature(p string, want func(Item) bool, shape func(Item) Side) (string, bool) {
	var b strings.Builder
	files := 0
	for _, it := range d.subtree(p) {
		if d.used[it.Path] || !want(it) {
			return "", false
		}
		b.WriteString(it.Path[len(p)+1:])
		if shape(it).Dir {
			b.WriteByte('/')
		} else {
			files++
		}
		b.WriteByte(0)
	}
	return b.String(), files > 0
}

// sameTree reports whether every file below fresh holds what the file at
// the same relative path below gone had. The signatures already matched.
func (d *detector) sameTree(v renameView, gone, fresh string) bool {
	for _, f := range d.subtree(fresh) {
		if v.src(f).Dir {
			continue
		}
		i, ok := d.byPath[gone+f.Path[len(fresh):]]
		if !ok || !v.sameFile(d.sorted[i], f) {
			return false
		}
	}
	return true
}

// parentPath returns the directory part of a slash path, "" at the top.
func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
