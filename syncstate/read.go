package syncstate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Reads see the file as modified by the batch being committed and then by
// the pending batch. They hold mu for reading, which keeps both batches
// still; the commit of db.flushing may land while a read runs, and since
// applying that batch again on top of its own result changes nothing,
// either view of the file gives the same answer.

// view returns the uncommitted writes for folder, newest first. Call with
// mu held.
func (db *DB) view(folder string) overlay {
	var o overlay
	for _, b := range []*batch{db.pending, db.flushing} {
		if b == nil {
			continue
		}
		if fb := b.folders[folder]; fb != nil {
			o = append(o, fb)
		}
	}
	return o
}

// rlock takes mu for reading and fails on a closed DB.
func (db *DB) rlock() error {
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func folderBucket(tx *bolt.Tx, folder string) *bolt.Bucket {
	root := tx.Bucket(bucketFolders)
	if root == nil || folder == "" {
		return nil
	}
	return root.Bucket([]byte(folder))
}

// Folder returns a snapshot of every record of folder, keyed by path. The
// agent loads it at start-up, so it reads the file in one pass with no
// per-entry lookups when nothing is queued for the folder.
func (db *DB) Folder(folder string) (map[string]Entry, error) {
	if err := db.rlock(); err != nil {
		return nil, err
	}
	defer db.mu.RUnlock()
	o := db.view(folder)
	var m map[string]Entry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		bk := folderBucket(tx, folder)
		if bk == nil {
			m = map[string]Entry{}
			return nil
		}
		m = make(map[string]Entry, bk.Stats().KeyN)
		return bk.ForEach(func(k, v []byte) error {
			p := string(k)
			e, st := o.lookup(p)
			switch st {
			case absent:
				return nil
			case unknown:
				var err error
				if e, err = decodeEntry(p, v); err != nil {
					return err
				}
			}
			m[p] = e
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load folder %s: %w", folder, err)
	}
	releaseMapped(db.bolt) // the whole bucket was read: do not keep it resident
	for _, fb := range o {
		for p := range fb.puts {
			if e, st := o.lookup(p); st == present {
				m[p] = e
			}
		}
	}
	return m, nil
}

// forEachChunk is how many records ForEach reads per read transaction.
const forEachChunk = 1024

// ForEach calls fn for every record of folder in path order (bytewise, so
// "a" < "a.txt" < "a/b"), stopping at and returning fn's first error. fn
// runs outside any lock or transaction and may call any method of db;
// records written meanwhile may or may not be seen.
func (db *DB) ForEach(folder string, fn func(Entry) error) error {
	after := "" // no path is empty, so "" is before every path
	for range maxChunks {
		chunk, upto, err := db.chunk(folder, after)
		if err != nil {
			return err
		}
		for _, e := range chunk {
			if err := fn(e); err != nil {
				return err
			}
		}
		if upto == "" {
			return nil
		}
		after = upto
	}
	return fmt.Errorf("for each in %s: more than %d chunks", folder, maxChunks)
}

// maxChunks bounds ForEach's loop (a billion records).
const maxChunks = 1 << 30 / forEachChunk

// chunk returns, sorted, the records with after < path <= upto, where
// upto is the last stored key read, or "" when the stored keys ran out.
func (db *DB) chunk(folder, after string) ([]Entry, string, error) {
	if err := db.rlock(); err != nil {
		return nil, "", err
	}
	defer db.mu.RUnlock()
	o := db.view(folder)
	out := make([]Entry, 0, forEachChunk)
	upto := ""
	err := db.bolt.View(func(tx *bolt.Tx) error {
		bk := folderBucket(tx, folder)
		if bk == nil {
			return nil
		}
		c := bk.Cursor()
		k, v := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
		for n := 0; k != nil; k, v = c.Next() {
			if n == forEachChunk {
				return nil // more remain; upto is the last key taken
			}
			n++
			p := string(k)
			upto = p
			e, st := o.lookup(p)
			switch st {
			case absent:
				continue
			case unknown:
				var err error
				if e, err = decodeEntry(p, v); err != nil {
					return err
				}
			}
			out = append(out, e)
		}
		upto = "" // the stored keys ran out
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("for each in %s: %w", folder, err)
	}
	// Queued records in the same range that are not stored yet.
	seen := len(out)
	var added map[string]bool
	for _, fb := range o {
		for p := range fb.puts {
			if !inRange(p, after, upto) || added[p] {
				continue
			}
			if _, found := slices.BinarySearchFunc(out[:seen], p, byPath); found {
				continue // stored, and already resolved against o
			}
			if e, st := o.lookup(p); st == present {
				if added == nil {
					added = map[string]bool{}
				}
				added[p] = true
				out = append(out, e)
			}
		}
	}
	if len(out) > seen {
		slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	}
	return out, upto, nil
}

func byPath(e Entry, p string) int { return strings.Compare(e.Path, p) }

// Folders returns the names of the folders that have records (or had, for
// a folder whose records were all deleted one by one), sorted.
func (db *DB) Folders() ([]string, error) {
	if err := db.rlock(); err != nil {
		return nil, err
	}
	defer db.mu.RUnlock()
	set := map[string]bool{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFolders)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(k []byte) error {
			set[string(k)] = true
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	// Oldest batch first, so a newer drop hides older records.
	for _, b := range []*batch{db.flushing, db.pending} {
		if b == nil {
			continue
		}
		for f, fb := range b.folders {
			if fb.dropped {
				delete(set, f)
			}
			if len(fb.puts) > 0 {
				set[f] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// Meta returns the value SetMeta stored under key, and whether there is one.
func (db *DB) Meta(key string) (string, bool, error) {
	if err := db.rlock(); err != nil {
		return "", false, err
	}
	defer db.mu.RUnlock()
	for _, b := range []*batch{db.pending, db.flushing} {
		if b == nil {
			continue
		}
		if v, ok := b.meta[key]; ok {
			return v, true, nil
		}
	}
	var v string
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		kv := tx.Bucket(bucketKV)
		if kv == nil || key == "" {
			return nil
		}
		if b := kv.Get([]byte(key)); b != nil {
			v, ok = string(b), true
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("meta %q: %w", key, err)
	}
	return v, ok, nil
}
