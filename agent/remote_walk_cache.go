package agent

import (
	"context"
	"errors"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/syncstate"
)

// listingSettle is how long after a directory listing with an unchanged
// modify fact that listing is trusted. A change made in the same clock tick
// as the listing could leave the directory's modify time where it was; one
// made settle later cannot, so a listing taken that long after the modify
// value was first seen holds everything up to that value.
const listingSettle = time.Second

// dirListing is one directory's cached listing.
type dirListing struct {
	modify    time.Time      // the directory's modify fact when it was listed
	listedAt  time.Time      // local clock (monotonic) when the listing started
	firstSeen time.Time      // when the first listing that saw this modify value ended
	entries   []remote.Entry // nil for a listing loaded from the state file
	digest    [16]byte       // listingDigest(entries)
}

// trusted reports whether the listing may stand in for a fresh one of a
// directory whose modify fact is now modify.
func (d *dirListing) trusted(modify time.Time) bool {
	return !modify.IsZero() && d.modify.Equal(modify) && d.listedAt.Sub(d.firstSeen) >= listingSettle
}

// walkCache lists a remote tree re-using the listings of directories whose
// modify fact has not moved. It is only correct on a server that changes a
// directory's modify time whenever an entry in it is added, removed or
// replaced: syncserver, which writes every file by renaming it into place.
// An in-place rewrite (as most servers do for STOR) keeps the directory's
// time, so for other servers the cache is off and every poll lists
// everything.
//
// A directory whose parent's listing was re-used is asked for its own
// facts (MLST, no data connection); a directory listed afresh tells its
// children's modify facts for free, so a directory with relistSubdirs or
// more subdirectories is listed afresh even when its listing stands: one
// MLSD instead of an MLST per child.
//
// With db set, the listings' facts (not their entries) outlive the
// process: a fresh agent rebuilds a directory's entries from the synced
// state and trusts them when the directory's modify fact stands and the
// rebuilt entries have the digest of the listing they came from.
//
// Walk is called from one goroutine at a time (the folder's pass).
type walkCache struct {
	now     func() time.Time
	enabled *bool // decided on the first walk, from the server's greeting

	// db and folder, when db is set, keep the listings' facts across
	// restarts (see persist.go's load and save).
	db     *syncstate.DB
	folder string
	log    *slog.Logger
	saved  map[string]syncstate.WalkRecord // what db holds, as last loaded or saved
	loaded bool

	mu      sync.Mutex
	dirs    map[string]*dirListing
	rebuilt map[string][]remote.Entry // listings rebuilt from the synced state, during one walk

	size int // entries of the last walk, to size the next one's map

	// temps are the agent temporaries (files) the last walk saw, keyed by
	// path relative to the root, for the pass to remove the stale ones.
	temps map[string]remote.Entry

	// Stats of the last walk, for tests and logs.
	listed, reused int
	byTree         bool // the last walk was one SITE TREE
}

// cacheableServer reports whether a server's directory modify facts track
// every change to the entries (see walkCache).
func cacheableServer(c remote.Caps) bool {
	return c.MLSD && strings.HasPrefix(c.Greeting, "syncserver")
}

// walk lists the tree under root like remote.Pool.Walk: every entry keyed
// by its slash path, agent temporaries left out, skip consulted for the
// rest, and any failure failing the whole walk.
func (c *walkCache) walk(ctx context.Context, p *remote.Pool, root string, workers int,
	skip func(string, remote.Entry) bool, base map[string]syncstate.Entry) (map[string]remote.Entry, error) {
	if c.enabled == nil {
		caps, err := p.Caps(ctx)
		if err != nil {
			return nil, err
		}
		on := cacheableServer(caps)
		c.enabled = &on
	}
	if !*c.enabled {
		out, temps, err := p.WalkWithTemps(ctx, root, skip)
		c.temps = temps
		return out, err
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.load()
	c.rebuilt = nil
	rootEntry, err := p.Stat(ctx, root)
	if err != nil {
		return nil, err
	}
	if !rootEntry.Dir {
		return nil, remote.ErrNotFile
	}
	if c.useTree(ctx, p) {
		out, err := c.treeWalk(ctx, p, root, rootEntry, skip)
		if !errors.Is(err, remote.ErrTreeIncomplete) {
			return out, err
		}
	}
	type job struct {
		rel    string
		modify time.Time
		known  bool // modify came from a fresh listing of the parent
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		queue   = []job{{rel: "", modify: rootEntry.ModTime, known: true}}
		active  int
		out     = make(map[string]remote.Entry, c.size)
		perms   = make(map[string]string)
		temps   = make(map[string]remote.Entry)
		seen    = make(map[string]bool)
		firstEr error
	)
	c.listed, c.reused, c.byTree = 0, 0, false
	// one lists (or re-uses) one directory; for a directory whose parent
	// listing was re-used it also returns the directory's fresh facts.
	one := func(j job) ([]remote.Entry, bool, *remote.Entry, error) {
		abs := joinRemote(root, j.rel)
		var self *remote.Entry
		if !j.known {
			e, err := p.Stat(ctx, abs)
			if err != nil {
				return nil, false, nil, err
			}
			j.modify, self = e.ModTime, &e
		}
		c.mu.Lock()
		old := c.dirs[j.rel]
		c.mu.Unlock()
		if old != nil && old.trusted(j.modify) {
			if entries := c.entriesOf(j.rel, old, base); entries != nil && subdirs(entries) < relistSubdirs {
				return entries, false, self, nil
			}
		}
		start := c.now()
		entries, err := p.List(ctx, abs)
		if err != nil {
			return nil, true, nil, err
		}
		// Kept for the agent's life: an exact copy, without the spare
		// capacity the listing grew.
		entries = append(make([]remote.Entry, 0, len(entries)), entries...)
		// The listing holds everything up to its start; its modify value
		// existed by its end.
		d := &dirListing{modify: j.modify, listedAt: start, firstSeen: c.now(), entries: entries, digest: listingDigest(entries)}
		if old != nil && old.modify.Equal(j.modify) {
			d.firstSeen = old.firstSeen
		}
		c.mu.Lock()
		c.dirs[j.rel] = d
		c.mu.Unlock()
		return entries, true, self, nil
	}
	work := func() {
		for {
			mu.Lock()
			for len(queue) == 0 && active > 0 && firstEr == nil {
				cond.Wait()
			}
			if firstEr != nil || len(queue) == 0 {
				mu.Unlock()
				cond.Broadcast()
				return
			}
			j := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			active++
			mu.Unlock()

			entries, fresh, self, err := one(j)

			mu.Lock()
			active--
			if err != nil && firstEr == nil {
				firstEr = err
				cancel()
			}
			if err == nil {
				if e, ok := out[j.rel]; ok && self != nil && self.Dir {
					self.Name = e.Name
					out[j.rel] = *self
				}
				seen[j.rel] = true
				if fresh {
					c.listed++
				} else {
					c.reused++
				}
			}
			for i, e := range entries {
				if err != nil {
					break
				}
				r := path.Join(j.rel, e.Name)
				if remote.IsTemp(e.Name) {
					if !e.Dir {
						temps[r] = e
					}
					continue
				}
				if fresh {
					e = compact(e, r, perms)
					entries[i] = e
				}
				if skip != nil && skip(r, e) {
					continue
				}
				out[r] = e
				if e.Dir {
					queue = append(queue, job{rel: r, modify: e.ModTime, known: fresh})
				}
			}
			mu.Unlock()
			cond.Broadcast()
		}
	}
	c.mu.Lock()
	if c.dirs == nil {
		c.dirs = make(map[string]*dirListing)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	// Directories no longer in the tree leave the cache.
	c.mu.Lock()
	for rel := range c.dirs {
		if !seen[rel] {
			delete(c.dirs, rel)
		}
	}
	c.rebuilt = nil
	c.size = len(out)
	c.temps = temps
	c.mu.Unlock()
	c.save()
	return out, nil
}
