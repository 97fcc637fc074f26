package agent

import (
	"context"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
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
// root) existed by the end.
func (c *walkCache) treeWalk(ctx context.Context, p *remote.Pool, root string, rootEntry remote.Entry,
	skip func(string, remote.Entry) bool) (map[string]remote.Entry, error) {
	start := c.now()
	out := make(map[string]remote.Entry, c.size)
	temps := make(map[string]remote.Entry)
	groups := map[string][]remote.Entry{"": nil} // each listed directory's entries
	err := p.Tree(ctx, root, func(rel string, e remote.Entry) bool {
		dir := parentOf(rel)
		groups[dir] = append(groups[dir], e)
		if remote.IsTemp(e.Name) {
			if !e.Dir {
				temps[rel] = e
			}
			return false
		}
		if skip != nil && skip(rel, e) {
			return false
		}
		out[rel] = e
		if e.Dir {
			if _, ok := groups[rel]; !ok {
				groups[rel] = nil
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	end := c.now()
	c.mu.Lock()
	old := c.dirs
	c.dirs = make(map[string]*dirListing, len(groups))
	for rel, entries := range groups {
		modify := rootEntry.ModTime
		if rel != "" {
			modify = out[rel].ModTime
		}
		// An exact copy: appending left up to half of each slice unused,
		// and these stay for the agent's life.
		entries = append(make([]remote.Entry, 0, len(entries)), entries...)
		d := &dirListing{modify: modify, listedAt: start, firstSeen: end, entries: entries, digest: listingDigest(entries)}
		if o := old[rel]; o != nil && o.modify.Equal(modify) && !modify.IsZero() {
			d.firstSeen = earlier(o.firstSeen, end)
		}
		c.dirs[rel] = d
	}
	c.listed, c.reused, c.byTree = len(groups), 0, true
	c.rebuilt = nil
	c.size = len(out)
	c.temps = temps
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
