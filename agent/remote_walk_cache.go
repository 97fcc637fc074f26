package agent

import (
	"context"
	"errors"
	"log/slog"
	"maps"
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

// dirListing is what the cache remembers of one directory's listing: its
// facts, not its entries. Those are rebuilt, when the listing stands, from
// the previous walk's result (or the synced state), and the digest tells
// whether the rebuilt entries are the ones listed.
type dirListing struct {
	modify    time.Time // the directory's modify fact when it was listed
	listedAt  time.Time // local clock (monotonic) when the listing started
	firstSeen time.Time // when the first listing that saw this modify value ended
	digest    [16]byte  // listingDigest of the listing's entries
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
// The cache keeps no entries of its own: a listing that stands is rebuilt
// from the previous walk's result, which the next walk updates in place
// (so a 100,000-entry tree is held once, not once per map and once more
// per directory), or, for a fresh agent, from the synced state. Either
// stands only when the rebuilt entries have the digest of the listing.
//
// With db set, the listings' facts outlive the process (persist.go).
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

	mu   sync.Mutex
	dirs map[string]*dirListing

	size int // entries of the last walk, to size the next one's map

	// extras are the entries the last walk listed but left out of its
	// result (agent temporaries, skipped paths), keyed by path relative to
	// the root: a listing rebuilt from that result needs them for its
	// digest. Few, usually none.
	extras map[string]remote.Entry

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
// rest, and any failure failing the whole walk. prev is the previous
// walk's result (nil if none), kept current since; the walk updates it in
// place and returns it, so the caller must not use prev afterwards, even
// on error. base is the synced state: it stands in for prev when there is
// none, and the result shares its path strings.
func (c *walkCache) walk(ctx context.Context, p *remote.Pool, root string, workers int,
	skip func(string, remote.Entry) bool, base map[string]syncstate.Entry,
	prev map[string]remoteFacts) (map[string]remoteFacts, error) {
	if c.enabled == nil {
		caps, err := p.Caps(ctx)
		if err != nil {
			return nil, err
		}
		on := cacheableServer(caps)
		c.enabled = &on
	}
	if !*c.enabled {
		prev = nil // garbage while the walk builds its own map
		out := make(map[string]remoteFacts, c.size)
		temps, err := p.WalkEach(ctx, root, skip, func(rel string, e remote.Entry) { out[rel] = factsOf(e) }, func() { clear(out) })
		c.temps = temps
		if err != nil {
			return nil, err
		}
		c.size = len(out)
		return out, nil
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.load()
	rootEntry, err := p.Stat(ctx, root)
	if err != nil {
		return nil, err
	}
	if !rootEntry.Dir {
		return nil, remote.ErrNotFile
	}
	if c.useTree(ctx, p) {
		out, err := c.treeWalk(ctx, p, root, rootEntry, skip, base, prev)
		if !errors.Is(err, remote.ErrTreeIncomplete) {
			return out, err
		}
		prev = nil // the tree walk emptied it
	}
	c.mu.Lock()
	if c.dirs == nil {
		c.dirs = make(map[string]*dirListing)
	}
	remembered := len(c.dirs) > 0
	c.mu.Unlock()
	extras := c.extras
	switch {
	case prev == nil && remembered:
		prev, extras = seedFromBase(base), nil
	case prev == nil:
		prev, extras = make(map[string]remoteFacts, c.size), nil
	}
	w := &dirWalk{c: c, p: p, root: root, skip: skip, base: base, out: prev,
		children: indexChildren(maps.Keys(prev), maps.Keys(extras)), prevExtras: extras,
		extras: make(map[string]remote.Entry), temps: make(map[string]remote.Entry),
		seen: make(map[string]bool, len(c.dirs))}
	w.q.init(dirJob{rel: "", modify: rootEntry.ModTime, known: true})
	return w.run(ctx, workers)
}

// dirJob is one directory for a dirWalk to list or re-use.
type dirJob struct {
	rel    string
	modify time.Time
	known  bool // modify came from a fresh listing of the parent
}

// dirWalk is one walk directory by directory: workers take directories
// from q, list or re-use them, and merge the result into out, all under
// q.mu.
type dirWalk struct {
	c    *walkCache
	p    *remote.Pool
	root string
	skip func(string, remote.Entry) bool
	base map[string]syncstate.Entry

	q          jobQueue[dirJob]
	out        map[string]remoteFacts  // the previous result, becoming this one
	children   childIndex              // the previous result's paths by parent directory
	prevExtras map[string]remote.Entry // the previous walk's extras
	extras     map[string]remote.Entry // this walk's extras and temps
	temps      map[string]remote.Entry
	seen       map[string]bool // directories listed or re-used
	scratch    []remote.Entry  // for rebuilt listings
	digests    digester        // for rebuilt listings
	firstErr   error
}

func (w *dirWalk) run(ctx context.Context, workers int) (map[string]remoteFacts, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := w.c
	c.listed, c.reused, c.byTree = 0, 0, false
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx, cancel)
		}()
	}
	wg.Wait()
	if w.firstErr != nil {
		return nil, w.firstErr
	}
	// What lies in no directory of this walk is gone: directories that
	// vanished, and anything the synced state held there.
	for k := range w.out {
		if !w.seen[parentOf(k)] {
			delete(w.out, k)
		}
	}
	c.mu.Lock()
	for rel := range c.dirs {
		if !w.seen[rel] {
			delete(c.dirs, rel)
		}
	}
	c.size = len(w.out)
	c.extras, c.temps = w.extras, w.temps
	c.mu.Unlock()
	c.save()
	return w.out, nil
}

func (w *dirWalk) work(ctx context.Context, cancel func()) {
	for {
		j, ok := w.q.take()
		if !ok {
			return
		}
		entries, reuse, self, err := w.one(ctx, j)
		w.q.finish(func() {
			switch {
			case err != nil:
				if w.firstErr == nil {
					w.firstErr = err
					w.q.stopLocked()
					cancel()
				}
			case reuse:
				w.reuseLocked(j, self)
			default:
				w.mergeLocked(j, self, entries)
			}
		})
	}
}

// one lists a directory, or reports that its listing stands (reuse).
// For a directory whose parent listing was re-used it also returns the
// directory's fresh facts.
func (w *dirWalk) one(ctx context.Context, j dirJob) ([]remote.Entry, bool, *remote.Entry, error) {
	c := w.c
	abs := joinRemote(w.root, j.rel)
	var self *remote.Entry
	if !j.known {
		e, err := w.p.Stat(ctx, abs)
		if err != nil {
			return nil, false, nil, err
		}
		j.modify, self = e.ModTime, &e
	}
	c.mu.Lock()
	old := c.dirs[j.rel]
	c.mu.Unlock()
	if old != nil && old.trusted(j.modify) {
		w.q.mu.Lock()
		digest, dirs := w.rebuiltLocked(j.rel)
		w.q.mu.Unlock()
		if digest == old.digest && dirs < relistSubdirs {
			return nil, true, self, nil
		}
	}
	start := c.now()
	entries, err := w.p.List(ctx, abs)
	if err != nil {
		return nil, false, nil, err
	}
	// The listing holds everything up to its start; its modify value
	// existed by its end.
	d := &dirListing{modify: j.modify, listedAt: start, firstSeen: c.now(), digest: listingDigest(entries)}
	if old != nil && old.modify.Equal(j.modify) {
		d.firstSeen = old.firstSeen
	}
	c.mu.Lock()
	c.dirs[j.rel] = d
	c.mu.Unlock()
	return entries, false, self, nil
}

// rebuiltLocked returns the digest of directory rel's listing as the
// previous result holds it, and how many subdirectories it has.
func (w *dirWalk) rebuiltLocked(rel string) ([16]byte, int) {
	w.scratch = w.scratch[:0]
	for _, k := range w.children.of(rel) {
		if e, ok := w.out[k]; ok {
			w.scratch = append(w.scratch, e.entry(k))
		} else if e, ok := w.prevExtras[k]; ok {
			w.scratch = append(w.scratch, e)
		}
	}
	return w.digests.digest(w.scratch), subdirs(w.scratch)
}

// setSelfLocked replaces directory j's entry with its fresh facts.
func (w *dirWalk) setSelfLocked(j dirJob, self *remote.Entry) {
	w.seen[j.rel] = true
	if _, ok := w.out[j.rel]; ok && self != nil && self.Dir {
		w.out[j.rel] = factsOf(*self)
	}
}

// reuseLocked keeps directory j's entries of the previous result and
// queues its subdirectories, whose own facts are not known from it.
func (w *dirWalk) reuseLocked(j dirJob, self *remote.Entry) {
	w.setSelfLocked(j, self)
	w.c.reused++
	for _, k := range w.children.of(j.rel) {
		f, ok := w.out[k]
		if !ok {
			if e, ok := w.prevExtras[k]; ok {
				w.addExtraLocked(k, e)
			}
			continue
		}
		// Entries that came from the synced state were never matched
		// against the ignore rules, which may have changed since.
		if e := f.entry(k); w.skip != nil && w.skip(k, e) {
			delete(w.out, k)
			w.addExtraLocked(k, e)
			continue
		}
		if f.Dir {
			w.q.pushLocked(dirJob{rel: k, modify: f.modTime()})
		}
	}
}

// mergeLocked replaces directory j's entries in the result with a fresh
// listing of it, and queues its subdirectories with their facts.
func (w *dirWalk) mergeLocked(j dirJob, self *remote.Entry, entries []remote.Entry) {
	w.setSelfLocked(j, self)
	w.c.listed++
	for _, k := range w.children.of(j.rel) {
		delete(w.out, k)
	}
	for _, e := range entries {
		r, e := compact(e, path.Join(j.rel, e.Name), w.base)
		if remote.IsTemp(e.Name) || (w.skip != nil && w.skip(r, e)) {
			w.addExtraLocked(r, e)
			continue
		}
		w.out[r] = factsOf(e)
		if e.Dir {
			w.q.pushLocked(dirJob{rel: r, modify: e.ModTime, known: true})
		}
	}
}

// addExtraLocked records a listed entry left out of the result.
func (w *dirWalk) addExtraLocked(r string, e remote.Entry) {
	w.extras[r] = e
	if remote.IsTemp(e.Name) && !e.Dir {
		w.temps[r] = e
	}
}
