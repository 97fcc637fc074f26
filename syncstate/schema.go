package syncstate

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// migrations[v] upgrades a state file from schema v to v+1. Every release
// that changes the layout appends one function and never edits the old
// ones, so a file from any earlier release is brought up to date, step by
// step, in a single transaction at Open: a crash mid-upgrade leaves the old
// version intact.
var migrations = []func(tx *bolt.Tx) error{
	// 0 → 1: the first release. Version 0 is a file with no meta bucket
	// (just created, or never initialised).
	func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketFolders, bucketKV} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// 1 → 2: walk records (remote directory listings remembered across
	// restarts) get a bucket of their own.
	func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketWalks); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketWalks, err)
		}
		return nil
	},
}

// SchemaVersion is the layout version this build writes and reads; it is
// len(migrations), which a test checks.
const SchemaVersion = 2

// SchemaError reports a state file whose layout this build cannot use.
type SchemaError struct {
	Found, Supported int
}

func (e *SchemaError) Error() string {
	if e.Found > e.Supported {
		return fmt.Sprintf("state file written by a newer syncagent (schema %d > %d)", e.Found, e.Supported)
	}
	return fmt.Sprintf("state file has schema %d, this syncagent needs %d: open it read-write once to upgrade it", e.Found, e.Supported)
}

// schemaOf reads the version stored in tx; 0 means none.
func schemaOf(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("schema version %q is not a number", v)
	}
	return n, nil
}

// migrate brings db up to SchemaVersion, refusing a file from the future.
// A file already current costs one read transaction and no write.
func migrate(db *bolt.DB, readOnly bool) error {
	var found int
	err := db.View(func(tx *bolt.Tx) error {
		var err error
		found, err = schemaOf(tx)
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case found == SchemaVersion:
		return nil
	case found > SchemaVersion || readOnly:
		return &SchemaError{Found: found, Supported: SchemaVersion}
	}
	return db.Update(func(tx *bolt.Tx) error {
		// Read again inside the write transaction: it is the one that counts.
		v, err := schemaOf(tx)
		if err != nil {
			return err
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("bucket %s missing after migration", bucketMeta)
		}
		return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
}
