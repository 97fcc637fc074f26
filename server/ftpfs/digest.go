package ftpfs

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDigestEntries is the size of a DigestCache built with
// NewDigestCache(0).
const DefaultDigestEntries = 4096

// fileKey names one file (inode) on one device.
type fileKey struct{ dev, ino uint64 }

// fileState is what a stat says about an inode's content: a write changes
// the size or the ctime (which users cannot set), so a file whose state is
// unchanged still holds the bytes it held when the state was taken.
type fileState struct {
	size         int64
	mtime, ctime int64 // nanoseconds since the epoch
}

type digestEntry struct {
	state fileState
	sum   [sha256.Size]byte
}

// DigestCache remembers the SHA-256 of files the server wrote itself, so
// that HASH right after an upload answers without reading the file back.
// Entries are keyed by inode and valid only while a stat of the inode
// still shows the size, modification time and change time recorded with
// them: any change to the file (a write, a truncation, a chmod, a utimes
// by anyone but the server's own MFMT and rename, which move the entry
// along) makes the next lookup a miss. The cache holds at most its size in
// entries, dropping the oldest first. A nil *DigestCache caches nothing.
// It is safe for concurrent use.
//
// Where the platform's stat has no inode or change time (Windows) nothing
// is cached. On Linux kernels before 6.13 (no multigrain timestamps) a
// local process that rewrites a file in place, same size, within the same
// clock tick as the server's own last change to it, is not detected; every
// write through the server makes a new inode and is always detected.
type DigestCache struct {
	mu      sync.Mutex
	entries map[fileKey]digestEntry
	order   []fileKey // ring of keys in insertion order, for eviction
	next    int       // next ring slot to fill

	hits, misses atomic.Int64
}

// NewDigestCache returns a cache of at most n entries
// (DefaultDigestEntries when n <= 0).
func NewDigestCache(n int) *DigestCache {
	if n <= 0 {
		n = DefaultDigestEntries
	}
	return &DigestCache{entries: make(map[fileKey]digestEntry, n), order: make([]fileKey, 0, n)}
}

// LookupSHA256 returns the SHA-256 of the open file f (and its size) if
// the cache holds it for f's current state; ok is false otherwise, and
// the caller reads the file.
func (c *DigestCache) LookupSHA256(f *os.File) (sum [sha256.Size]byte, size int64, ok bool) {
	if c == nil {
		return sum, 0, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		c.misses.Add(1)
		return sum, 0, false
	}
	key, st, ok := fileIdentity(fi)
	if !ok {
		c.misses.Add(1)
		return sum, 0, false
	}
	c.mu.Lock()
	e, found := c.entries[key]
	if found && e.state != st {
		delete(c.entries, key) // changed behind the server's back
		found = false
	}
	c.mu.Unlock()
	if !found {
		c.misses.Add(1)
		return sum, 0, false
	}
	c.hits.Add(1)
	return e.sum, st.size, true
}

// Hits returns how many lookups the cache answered.
func (c *DigestCache) Hits() int64 { return c.hits.Load() }

// Misses returns how many lookups the cache could not answer.
func (c *DigestCache) Misses() int64 { return c.misses.Load() }

// add records sum for the file described by fi.
func (c *DigestCache) add(fi fs.FileInfo, sum [sha256.Size]byte) {
	if c == nil || fi == nil || !fi.Mode().IsRegular() {
		return
	}
	key, st, ok := fileIdentity(fi)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, found := c.entries[key]; !found {
		if len(c.order) < cap(c.order) {
			c.order = append(c.order, key)
		} else {
			delete(c.entries, c.order[c.next])
			c.order[c.next] = key
			c.next = (c.next + 1) % len(c.order)
		}
	}
	c.entries[key] = digestEntry{state: st, sum: sum}
}

// addPlaced records sum for a file the server wrote and then renamed into
// place: before is its stat just before the rename (after the last write
// and fsync), after its stat once in place. The rename changes only the
// change time; if anything else differs, the file was changed in between
// and nothing is recorded.
func (c *DigestCache) addPlaced(before, after fs.FileInfo, sum [sha256.Size]byte) {
	k0, s0, ok0 := fileIdentity(before)
	k1, s1, ok1 := fileIdentity(after)
	if ok0 && ok1 && k0 == k1 && s0.size == s1.size && s0.mtime == s1.mtime {
		c.add(after, sum)
	}
}

// cached reports whether the cache holds a digest for fi's current state.
func (c *DigestCache) cached(fi fs.FileInfo) bool {
	if c == nil || fi == nil {
		return false
	}
	key, st, ok := fileIdentity(fi)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries[key]
	return found && e.state == st
}

// carry moves the digest recorded for before to after, the same inode
// seen again after an operation of the server's own that kept its content
// (a rename, or MFMT setting the modification time to mtime; zero mtime
// means the operation must not have changed it). Anything else that
// differs (another inode, another size, another modification time) means
// the content may have changed meanwhile, and the entry is dropped.
func (c *DigestCache) carry(before, after fs.FileInfo, mtime time.Time) {
	if c == nil || before == nil || after == nil || !after.Mode().IsRegular() {
		return
	}
	k0, s0, ok0 := fileIdentity(before)
	k1, s1, ok1 := fileIdentity(after)
	if !ok0 || !ok1 {
		return
	}
	want := s0.mtime
	if !mtime.IsZero() {
		want = mtime.UnixNano()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries[k0]
	if !found || e.state != s0 {
		return
	}
	if k1 != k0 || s1.size != s0.size || s1.mtime != want {
		delete(c.entries, k0)
		return
	}
	c.entries[k0] = digestEntry{state: s1, sum: e.sum}
}
