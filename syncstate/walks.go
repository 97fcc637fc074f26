package syncstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// WalkRecord is what the agent remembers of one remote directory listing
// across restarts: the directory's modify fact when it was listed, when
// that value was first seen and when the listing started (local wall
// clock), and a digest of the entries the listing held. The entries
// themselves are not stored: the agent rebuilds them from the folder's
// synced-state records and trusts them only if they give the same digest.
// A WalkRecord is a plain value.
type WalkRecord struct {
	// Dir is the directory, slash-separated and relative to the folder's
	// remote root; "" is the root itself.
	Dir       string
	Modify    time.Time
	FirstSeen time.Time
	ListedAt  time.Time
	Digest    [16]byte
}

// walkEncoding is the first byte of a stored WalkRecord.
const walkEncoding = 1

// walkKey maps a directory to its key: bbolt keys cannot be empty, so
// every key starts with "/".
func walkKey(dir string) []byte { return []byte("/" + dir) }

func appendWalk(buf []byte, r WalkRecord) []byte {
	buf = append(buf, walkEncoding)
	for _, t := range []time.Time{r.Modify, r.FirstSeen, r.ListedAt} {
		buf = binary.AppendVarint(buf, t.UnixNano())
	}
	return append(buf, r.Digest[:]...)
}

func decodeWalk(dir string, v []byte) (WalkRecord, error) {
	d := decoder{b: v}
	r := WalkRecord{Dir: dir}
	if d.byte() != walkEncoding {
		return r, fmt.Errorf("decode walk %q: %w: unknown encoding", dir, errCorrupt)
	}
	ts := []*time.Time{&r.Modify, &r.FirstSeen, &r.ListedAt}
	for _, t := range ts {
		*t = time.Unix(0, d.varint()).UTC()
	}
	if d.bad || len(d.b) != len(r.Digest) {
		return WalkRecord{}, fmt.Errorf("decode walk %q: %w", dir, errCorrupt)
	}
	copy(r.Digest[:], d.b)
	return r, nil
}

// Walks returns the walk records SetWalks last stored for folder, keyed
// by directory. A folder with none gives an empty map.
func (db *DB) Walks(folder string) (map[string]WalkRecord, error) {
	if err := db.rlock(); err != nil {
		return nil, err
	}
	defer db.mu.RUnlock()
	out := map[string]WalkRecord{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketWalks)
		if root == nil || folder == "" {
			return nil
		}
		bk := root.Bucket([]byte(folder))
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			if len(k) == 0 || k[0] != '/' {
				return fmt.Errorf("walk key %q: %w", k, errCorrupt)
			}
			r, err := decodeWalk(string(k[1:]), v)
			if err != nil {
				return err
			}
			out[r.Dir] = r
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load walks of %s: %w", folder, err)
	}
	return out, nil
}

// SetWalks replaces the walk records of folder with recs (keyed by
// directory; nil or empty removes them all), in one transaction of its
// own. Walk records only ever save work: a lost or stale one makes the
// agent list a directory again, so they need no ordering with Put and
// Delete.
func (db *DB) SetWalks(folder string, recs map[string]WalkRecord) error {
	if err := checkFolder(folder); err != nil {
		return fmt.Errorf("set walks: %w", err)
	}
	db.mu.RLock()
	closed, ro := db.closed, db.readOnly
	db.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case ro:
		return ErrReadOnly
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	if db.shut {
		return ErrClosed
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketWalks)
		if root == nil {
			return fmt.Errorf("bucket %s missing", bucketWalks)
		}
		if err := root.DeleteBucket([]byte(folder)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		bk, err := root.CreateBucket([]byte(folder))
		if err != nil {
			return err
		}
		var arena []byte
		for _, dir := range slices.Sorted(maps.Keys(recs)) {
			r := recs[dir]
			r.Dir = dir
			start := len(arena)
			arena = appendWalk(arena, r)
			if err := bk.Put(walkKey(dir), arena[start:len(arena):len(arena)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set walks of %s: %w", folder, err)
	}
	return nil
}

// dropWalks removes folder's walk records inside a commit (DropFolder).
func dropWalks(tx *bolt.Tx, folder string) error {
	root := tx.Bucket(bucketWalks)
	if root == nil {
		return nil
	}
	if err := root.DeleteBucket([]byte(folder)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return fmt.Errorf("drop walks of %q: %w", folder, err)
	}
	return nil
}
