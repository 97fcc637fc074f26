package agent

import (
	"context"
	"maps"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/syncstate"
)

// useTree reports whether the next walk should list the whole tree with
// one SITE TREE rather than go directory by directory: the server offers
// it, and most remembered listings could not stand in for a fresh one
// anyway (none yet, or listings never confirmed by a second listing, as
// after the first sync of a tree), so nearly every directory would need
// a listing of its own.
func (c *walkCache) useTree(ctx context.Context, p *remote.Pool) bool {
	if ok, err := p.CanTree(ctx); err != nil || !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	settled := 0
	for _, d := range c.dirs {
		if d.listedAt.Sub(d.firstSeen) >= listingSettle {
			settled++
		}
	}
	return len(c.dirs) == 0 || settled*2 < len(c.dirs)
}

// treeWalk lists the tree under root with one SITE TREE and makes every
// directory in it a fresh listing of the cache, as if each had been
// listed when the tree listing started: it holds every change up to then,
// and its modify value (from the parent's line, or rootEntry for the
// root) existed by the end. It empties prev and fills it again, so the
// new result takes the old one's memory.
func (c *walkCache) treeWalk(ctx context.Context, p *remote.Pool, root string, rootEntry remote.Entry,
	skip func(string, remote.Entry) bool, base map[string]syncstate.Entry,
	prev map[string]remoteFacts) (map[string]remoteFacts, error) {
	start := c.now()
	out := prev
	if out == nil {
		// A fresh agent's first walk: the synced state tells the size.
		out = make(map[string]remoteFacts, max(c.size, len(base)))
	}
	clear(out)
	extras := make(map[string]remote.Entry)
	temps := make(map[string]remote.Entry)
	err := p.Tree(ctx, root, func(rel string, e remote.Entry) bool {
		rel, e = compact(e, rel, base) // Tree's strings are views of the listing
		if remote.IsTemp(e.Name) {
			extras[rel] = e
			if !e.Dir {
				temps[rel] = e
			}
			return false
		}
		if skip != nil && skip(rel, e) {
			extras[rel] = e
			return false
		}
		out[rel] = factsOf(e)
		return true
	})
	if err != nil {
		return nil, err
	}
	end := c.now()
	// Every directory kept is listed, empty ones too.
	children := indexChildren(maps.Keys(out), maps.Keys(extras))
	var scratch []remote.Entry
	var digests digester
	listing := func(rel string) [16]byte {
		scratch = scratch[:0]
		for _, k := range children.of(rel) {
			if e, ok := out[k]; ok {
				scratch = append(scratch, e.entry(k))
			} else {
				scratch = append(scratch, extras[k])
			}
		}
		return digests.digest(scratch)
	}
	c.mu.Lock()
	old := c.dirs
	c.dirs = make(map[string]*dirListing, len(children.at)+1)
	add := func(rel string, modify time.Time) {
		d := &dirListing{modify: modify, listedAt: start, firstSeen: end, digest: listing(rel)}
		if o := old[rel]; o != nil && o.modify.Equal(modify) && !modify.IsZero() {
			d.firstSeen = earlier(o.firstSeen, end)
		}
		c.dirs[rel] = d
	}
	add("", rootEntry.ModTime)
	for rel, e := range out {
		if e.Dir {
			add(rel, e.modTime())
		}
	}
	c.listed, c.reused, c.byTree = len(c.dirs), 0, true
	c.size = len(out)
	c.extras, c.temps = extras, temps
	c.mu.Unlock()
	c.save()
	return out, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
