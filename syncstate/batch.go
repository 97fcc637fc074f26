package syncstate

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// A batch is a set of writes not yet committed to bbolt. Within one folder
// the writes are kept in a normal form, applied in this order: drop the
// whole folder, then delete every subtree in dels, then store every entry in
// puts. A Delete removes the pending puts it covers, so any put still in
// the batch came after every delete covering it and "deletes first" loses
// nothing. Batches are guarded by DB.mu; once swapped out for committing
// (DB.flushing) a batch is never modified again.
type batch struct {
	folders map[string]*folderBatch
	meta    map[string]string
	ops     int // writes queued since the batch was started
}

type folderBatch struct {
	dropped bool
	dels    map[string]struct{}
	puts    map[string]Entry
}

func newBatch() *batch {
	return &batch{folders: map[string]*folderBatch{}, meta: map[string]string{}}
}

func (b *batch) empty() bool { return b.ops == 0 }

func (b *batch) folder(f string) *folderBatch {
	fb := b.folders[f]
	if fb == nil {
		fb = &folderBatch{dels: map[string]struct{}{}, puts: map[string]Entry{}}
		b.folders[f] = fb
	}
	return fb
}

func (b *batch) put(f string, e Entry) {
	b.folder(f).puts[e.Path] = e
	b.ops++
}

func (b *batch) del(f, p string) {
	fb := b.folder(f)
	for k := range fb.puts {
		if under(k, p) {
			delete(fb.puts, k)
		}
	}
	for k := range fb.dels {
		if under(k, p) && k != p {
			delete(fb.dels, k) // subsumed by p
		}
	}
	fb.dels[p] = struct{}{}
	b.ops++
}

func (b *batch) drop(f string) {
	b.folders[f] = &folderBatch{dropped: true, dels: map[string]struct{}{}, puts: map[string]Entry{}}
	b.ops++
}

func (b *batch) setMeta(k, v string) {
	b.meta[k] = v
	b.ops++
}

// then returns the batch that has the effect of b followed by n. It is used
// to put a batch whose commit failed back in front of the newer writes.
func (b *batch) then(n *batch) *batch {
	out := newBatch()
	for f, fb := range b.folders {
		c := out.folder(f)
		c.dropped = fb.dropped
		maps.Copy(c.dels, fb.dels)
		maps.Copy(c.puts, fb.puts)
	}
	maps.Copy(out.meta, b.meta)
	maps.Copy(out.meta, n.meta)
	for f, fb := range n.folders {
		if fb.dropped {
			c := out.folder(f)
			*c = folderBatch{dropped: true, dels: map[string]struct{}{}, puts: map[string]Entry{}}
		}
		for d := range fb.dels {
			out.del(f, d)
		}
		for p, e := range fb.puts {
			out.folder(f).puts[p] = e
		}
	}
	out.ops = b.ops + n.ops
	return out
}

// under reports whether p is d or lies below directory d.
func under(p, d string) bool {
	return len(p) >= len(d) && p[:len(d)] == d && (len(p) == len(d) || p[len(d)] == '/')
}

// lookState is what a batch knows about one path.
type lookState int

const (
	unknown lookState = iota // the batch says nothing; ask the older layer
	present                  // the batch stores an entry
	absent                   // the batch deletes the path
)

// lookup reports what fb says about path p.
func (fb *folderBatch) lookup(p string) (Entry, lookState) {
	if e, ok := fb.puts[p]; ok {
		return e, present
	}
	if fb.dropped {
		return Entry{}, absent
	}
	if len(fb.dels) == 0 {
		return Entry{}, unknown
	}
	if _, ok := fb.dels[p]; ok {
		return Entry{}, absent
	}
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			if _, ok := fb.dels[p[:i]]; ok {
				return Entry{}, absent
			}
		}
	}
	return Entry{}, unknown
}

// overlay is the uncommitted writes for one folder, newest layer first.
type overlay []*folderBatch

func (o overlay) lookup(p string) (Entry, lookState) {
	for _, fb := range o {
		if e, st := fb.lookup(p); st != unknown {
			return e, st
		}
	}
	return Entry{}, unknown
}

// Bucket names. Entries of folder F live in folders/F, keyed by path; the
// schema version is meta/schema; SetMeta values live in kv; the walk
// records of folder F live in walks/F, keyed by "/" + directory.
var (
	bucketFolders = []byte("folders")
	bucketMeta    = []byte("meta")
	bucketKV      = []byte("kv")
	bucketWalks   = []byte("walks")
	keySchema     = []byte("schema")
)

// apply writes b into tx.
func (b *batch) apply(tx *bolt.Tx) error {
	root := tx.Bucket(bucketFolders)
	if root == nil {
		return fmt.Errorf("bucket %s missing", bucketFolders)
	}
	// bbolt keeps the value slices until the commit, so each value gets
	// its own bytes: carved from a growing arena, whose old backing
	// arrays stay valid when append moves it.
	var arena []byte
	for _, f := range slices.Sorted(maps.Keys(b.folders)) {
		fb := b.folders[f]
		if fb.dropped {
			if err := root.DeleteBucket([]byte(f)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("drop folder %q: %w", f, err)
			}
			if err := dropWalks(tx, f); err != nil {
				return err
			}
			if len(fb.puts) == 0 {
				continue
			}
		}
		bk := root.Bucket([]byte(f))
		if bk == nil {
			if len(fb.puts) == 0 {
				continue // deletes in a folder that was never stored
			}
			var err error
			if bk, err = root.CreateBucket([]byte(f)); err != nil {
				return fmt.Errorf("create folder %q: %w", f, err)
			}
		}
		for d := range fb.dels {
			if err := deleteTree(bk, d); err != nil {
				return fmt.Errorf("folder %q: %w", f, err)
			}
		}
		// Sorted keys keep bbolt's page splits sequential.
		for _, p := range slices.Sorted(maps.Keys(fb.puts)) {
			start := len(arena)
			arena = appendEntry(arena, fb.puts[p])
			if err := bk.Put([]byte(p), arena[start:len(arena):len(arena)]); err != nil {
				return fmt.Errorf("folder %q: put %q: %w", f, p, err)
			}
		}
	}
	if len(b.meta) > 0 {
		kv := tx.Bucket(bucketKV)
		if kv == nil {
			return fmt.Errorf("bucket %s missing", bucketKV)
		}
		for k, v := range b.meta {
			if err := kv.Put([]byte(k), []byte(v)); err != nil {
				return fmt.Errorf("meta %q: %w", k, err)
			}
		}
	}
	return nil
}

// deleteTree deletes key d and every key below "d/". Keys are collected
// first: deleting under a moving bbolt cursor can skip keys.
func deleteTree(bk *bolt.Bucket, d string) error {
	keys := [][]byte{[]byte(d)}
	prefix := []byte(d + "/")
	c := bk.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := bk.Delete(k); err != nil {
			return fmt.Errorf("delete %q: %w", k, err)
		}
	}
	return nil
}

// inRange reports whether after < k <= upto, where upto == "" means no
// upper bound.
func inRange(k, after, upto string) bool {
	return k > after && (upto == "" || k <= upto)
}
