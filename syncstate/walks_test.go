package syncstate

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func walkRec(dir string, sec int64, digest byte) WalkRecord {
	t := time.Unix(sec, 123456789).UTC()
	return WalkRecord{Dir: dir, Modify: t, FirstSeen: t.Add(time.Second), ListedAt: t.Add(3 * time.Second), Digest: [16]byte{digest}}
}

func TestWalksRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]WalkRecord{"": walkRec("", 100, 1), "a": walkRec("a", 200, 2), "a/b c": walkRec("a/b c", -5, 3)}
	if err := db.SetWalks("f", want); err != nil {
		t.Fatal(err)
	}
	if err := db.SetWalks("g", map[string]WalkRecord{"x": walkRec("x", 1, 9)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Walks("f")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g.Dir != w.Dir || !g.Modify.Equal(w.Modify) || !g.FirstSeen.Equal(w.FirstSeen) || !g.ListedAt.Equal(w.ListedAt) || g.Digest != w.Digest {
			t.Errorf("%q: got %+v, want %+v", k, g, w)
		}
	}
	// Replacing drops what is not given again.
	if err := db.SetWalks("f", map[string]WalkRecord{"a": walkRec("a", 7, 7)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Walks("f"); len(got) != 1 || got["a"].Digest[0] != 7 {
		t.Errorf("after replace: %+v", got)
	}
	// Dropping the folder drops its walks, not another folder's.
	if err := db.DropFolder("f"); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Walks("f"); len(got) != 0 {
		t.Errorf("walks of a dropped folder: %+v", got)
	}
	if got, _ := db.Walks("g"); len(got) != 1 {
		t.Errorf("walks of another folder: %+v", got)
	}
	if got, _ := db.Walks("none"); len(got) != 0 {
		t.Errorf("walks of an unknown folder: %+v", got)
	}
}

func TestWalksClosedAndReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetWalks("f", map[string]WalkRecord{"": walkRec("", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.SetWalks("f", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SetWalks on closed DB = %v", err)
	}
	if _, err := db.Walks("f"); !errors.Is(err, ErrClosed) {
		t.Errorf("Walks on closed DB = %v", err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got, err := ro.Walks("f"); err != nil || len(got) != 1 {
		t.Errorf("read-only Walks = %v, %v", got, err)
	}
	if err := ro.SetWalks("f", nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only SetWalks = %v", err)
	}
}

// TestMigrateFromVersion1 upgrades a file as the first release left it:
// its records stay, and walk records can be stored.
func TestMigrateFromVersion1(t *testing.T) {
	path := rawFile(t, func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketFolders, bucketKV} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		f, err := tx.Bucket(bucketFolders).CreateBucket([]byte("f"))
		if err != nil {
			return err
		}
		if err := f.Put([]byte("a"), appendEntry(nil, entry("a", 1))); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("1"))
	})
	if _, err := Open(path, Options{ReadOnly: true}); err == nil {
		t.Error("read-only Open of schema 1 succeeded")
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok, err := get(db, "f", "a"); err != nil || !ok || !e.Equal(entry("a", 1)) {
		t.Errorf("record after migration: %+v %v %v", e, ok, err)
	}
	if err := db.SetWalks("f", map[string]WalkRecord{"": walkRec("", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v := schemaIn(t, path); v != 2 {
		t.Errorf("schema %d after migration, want 2", v)
	}
}
